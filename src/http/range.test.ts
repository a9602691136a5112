import { describe, expect, it } from 'vitest';
import { parseRange } from './range.ts';

describe('parseRange', () => {
  it('ignores an absent, foreign-unit or malformed header', () => {
    for (const h of [null, undefined, '', 'items=0-1', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes=5-2', 'bytes 0-1']) {
      expect(parseRange(h, 100), String(h)).toEqual({ kind: 'none' });
    }
  });

  it('ignores multi-range requests (the whole file is sent)', () => {
    expect(parseRange('bytes=0-1,5-6', 100)).toEqual({ kind: 'none' });
  });

  it('reads first-last, clamping last to the file', () => {
    expect(parseRange('bytes=0-0', 100)).toEqual({ kind: 'range', start: 0, end: 0 });
    expect(parseRange('bytes=10-19', 100)).toEqual({ kind: 'range', start: 10, end: 19 });
    expect(parseRange('bytes=90-1000', 100)).toEqual({ kind: 'range', start: 90, end: 99 });
    expect(parseRange('BYTES = 1 - 2', 100)).toEqual({ kind: 'range', start: 1, end: 2 });
  });

  it('reads open-ended first-', () => {
    expect(parseRange('bytes=99-', 100)).toEqual({ kind: 'range', start: 99, end: 99 });
  });

  it('reads suffix -N, larger than the file meaning all of it', () => {
    expect(parseRange('bytes=-10', 100)).toEqual({ kind: 'range', start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ kind: 'range', start: 0, end: 99 });
  });

  it('reports unsatisfiable ranges', () => {
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=100-200', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('treats numbers beyond 2^53 as malformed', () => {
    expect(parseRange('bytes=99999999999999999999-', 100)).toEqual({ kind: 'none' });
  });
});
