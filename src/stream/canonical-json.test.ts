import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson', () => {
  it('sorts keys and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: 'x', c: true })).toBe('{"a":"x","b":1,"c":true}');
  });

  it('sorts nested objects, keeping array order', () => {
    const value = { z: [{ y: 1, x: 2 }, 3, null], a: { d: { f: false, e: 'e' }, c: [] } };
    expect(canonicalJson(value)).toBe('{"a":{"c":[],"d":{"e":"e","f":false}},"z":[{"x":2,"y":1},3,null]}');
  });

  it('gives the same text for the same members in any insertion order', () => {
    const one = { name: 'org.example.Desktop', arch: 'x86_64', sizes: { b: 2, a: 1 } };
    const two = { sizes: { a: 1, b: 2 }, arch: 'x86_64', name: 'org.example.Desktop' };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
  });

  it('sorts keys by UTF-16 code units (RFC 8785), not by locale', () => {
    // "B" (0x42) < "a" (0x61) < "é" (0xE9) < "😀" (surrogate 0xD83D) < "ﬀ" (0xFB00)
    expect(canonicalJson({ 'ﬀ': 5, '😀': 4, 'é': 3, a: 2, B: 1 })).toBe('{"B":1,"a":2,"é":3,"😀":4,"ﬀ":5}');
  });

  it('writes unicode as UTF-8 characters and escapes only what JSON must', () => {
    const text = canonicalJson({ s: 'ünï "q" \\ \n \u0001 😀' });
    expect(text).toBe('{"s":"ünï \\"q\\" \\\\ \\n \\u0001 😀"}');
    expect(Buffer.from(text, 'utf8').toString('hex')).toBe(
      '7b2273223a22c3bc6ec3af205c22715c22205c5c205c6e205c7530303031' + '20f09f988022' + '7d',
    );
  });

  it('writes numbers as ECMAScript does', () => {
    expect(canonicalJson([0, -0, 1.5, 1e21, 104857600, -3])).toBe('[0,0,1.5,1e+21,104857600,-3]');
  });

  it('leaves out undefined members like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ a: NaN })).toThrow('Cannot write canonical JSON: $.a is NaN');
    expect(() => canonicalJson([Infinity])).toThrow('$[0] is Infinity');
    expect(() => canonicalJson({ a: 1n })).toThrow('$.a is a bigint');
    expect(() => canonicalJson({ d: new Date(0) })).toThrow('$.d is not a plain object');
    expect(() => canonicalJson(undefined)).toThrow('$ is undefined');
  });
});
