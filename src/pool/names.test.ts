import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import {
  compareVersions, isArch, isValidName, isValidVersion, newVersion, parseSubvolumeName, subvolumeName,
  validateArch, validateName, validateRef, validateVersion, versionDate,
} from './names.ts';

function errorOf(fn: () => unknown): TrowelError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TrowelError) return e;
    throw e;
  }
  throw new Error('expected a TrowelError');
}

describe('validateName', () => {
  it.each(['org.example.Desktop', 'a.B', 'com.acme-corp.x86.Server2', '0day.Lab', `org.${'a'.repeat(122)}.X`])('accepts %s', (name) => {
    expect(validateName(name)).toBe(name);
    expect(isValidName(name)).toBe(true);
  });

  it.each([
    ['', /it is empty/],
    ['../../etc/passwd', /only ASCII letters, digits/],
    ['org/example.Desktop', /only ASCII letters, digits/],
    ['org.example.Desktop:x86_64', /only ASCII letters, digits/],
    ['org.exämple.Desktop', /only ASCII letters, digits/],
    ['org.example.Dësktop', /only ASCII letters, digits/],
    ['org.example.Desk top', /only ASCII letters, digits/],
    ['org.example.Desktop\n', /only ASCII letters, digits/],
    ['Desktop', /needs a lowercase namespace/],
    ['Org.example.Desktop', /namespace label "Org" must be lowercase/],
    ['org.-example.Desktop', /namespace label "-example"/],
    ['org..Desktop', /empty namespace label/],
    ['.org.Desktop', /empty namespace label/],
    ['org.example.desktop', /identifier "desktop" must start with an uppercase letter/],
    ['org.example.Desk-top', /identifier "Desk-top"/],
    ['org.example.', /ends without an identifier/],
    ['org.example.1Desktop', /identifier "1Desktop"/],
    [`org.${'a'.repeat(123)}.X`, /longer than 128 characters/],
  ])('refuses %j with EBADNAME', (name, why) => {
    const e = errorOf(() => validateName(name));
    expect(e.code).toBe('EBADNAME');
    expect(e.message).toMatch(/^Cannot use template name ".*": /);
    expect(e.message).toMatch(why);
    expect(e.hint).toMatch(/org\.example\.Desktop/);
    expect(isValidName(name)).toBe(false);
  });

  it('shows control characters escaped and cuts a very long name in the message', () => {
    expect(errorOf(() => validateName('a\u0007.B')).message).toContain('"a\\u0007.B"');
    const e = errorOf(() => validateName('x'.repeat(10_000)));
    expect(e.message.length).toBeLessThan(160);
    expect(e.message).toContain('..."');
  });
});

describe('validateArch', () => {
  it('accepts the two arches', () => {
    expect(validateArch('x86_64')).toBe('x86_64');
    expect(validateArch('aarch64')).toBe('aarch64');
    expect(isArch('aarch64')).toBe(true);
  });

  it('refuses others with EBADARCH and suggests the lowercase spelling', () => {
    expect(errorOf(() => validateArch('amd64'))).toMatchObject({ code: 'EBADARCH', message: 'Cannot use arch "amd64": it must be one of x86_64, aarch64' });
    expect(errorOf(() => validateArch('X86_64')).hint).toBe('did you mean x86_64?');
    expect(errorOf(() => validateArch('')).code).toBe('EBADARCH');
    expect(isArch('arm64')).toBe(false);
  });
});

describe('validateVersion', () => {
  it('accepts a real UTC timestamp', () => {
    expect(validateVersion('20261122T023710Z')).toBe('20261122T023710Z');
    expect(isValidVersion('20240229T235959Z')).toBe(true);
  });

  it.each(['', 'latest', '20261122T023710', '20261122t023710Z', '2026-11-22T02:37:10Z', '20261122T023710Z/..', '20261131T000000Z', '20250229T000000Z', '20261122T240000Z', '20261122T026000Z', '２0261122T023710Z'])(
    'refuses %j with EBADVERSION',
    (version) => {
      expect(errorOf(() => validateVersion(version)).code).toBe('EBADVERSION');
      expect(isValidVersion(version)).toBe(false);
    },
  );
});

describe('validateRef', () => {
  it('checks name first, then arch, then version', () => {
    expect(errorOf(() => validateRef({ name: 'bad', arch: 'bad', version: 'bad' })).code).toBe('EBADNAME');
    expect(errorOf(() => validateRef({ name: 'a.B', arch: 'bad', version: 'bad' })).code).toBe('EBADARCH');
    expect(errorOf(() => validateRef({ name: 'a.B', arch: 'x86_64', version: 'bad' })).code).toBe('EBADVERSION');
    expect(validateRef({ name: 'a.B', arch: 'x86_64', version: '20261122T023710Z' })).toEqual({ name: 'a.B', arch: 'x86_64', version: '20261122T023710Z' });
  });
});

describe('newVersion and versionDate', () => {
  it('formats the UTC second, dropping milliseconds', () => {
    expect(newVersion(new Date('2026-11-22T02:37:10.999Z'))).toBe('20261122T023710Z');
    expect(newVersion(new Date('2026-01-02T03:04:05+01:00'))).toBe('20260102T020405Z');
  });

  it('round-trips through versionDate', () => {
    expect(versionDate('20261122T023710Z').toISOString()).toBe('2026-11-22T02:37:10.000Z');
  });

  it('refuses an invalid date', () => {
    expect(() => newVersion(new Date(NaN))).toThrow(RangeError);
  });
});

describe('compareVersions', () => {
  it('orders oldest first, and newest first when reversed', () => {
    const versions = ['20261122T023710Z', '20251231T235959Z', '20261122T023711Z'];
    expect([...versions].sort(compareVersions)).toEqual(['20251231T235959Z', '20261122T023710Z', '20261122T023711Z']);
    expect([...versions].sort((a, b) => compareVersions(b, a))[0]).toBe('20261122T023711Z');
    expect(compareVersions('20261122T023710Z', '20261122T023710Z')).toBe(0);
  });
});

describe('subvolumeName and parseSubvolumeName', () => {
  const ref = { name: 'org.example.Desktop', arch: 'x86_64', version: '20261122T023710Z' } as const;

  it('builds @template:<name>:<arch>:<version>', () => {
    expect(subvolumeName(ref)).toBe('@template:org.example.Desktop:x86_64:20261122T023710Z');
  });

  it('refuses to build from a bad part', () => {
    expect(errorOf(() => subvolumeName({ ...ref, name: '../x.Y' })).code).toBe('EBADNAME');
  });

  it('parses what it builds', () => {
    expect(parseSubvolumeName('@template:org.example.Desktop:x86_64:20261122T023710Z')).toEqual(ref);
  });

  it.each([
    '@root:org.example.Desktop:x86_64:20261122T023710Z',
    '@template:org.example.Desktop:x86_64',
    '@template:org.example.Desktop:x86_64:20261122T023710Z:extra',
    '@template:org.example.desktop:x86_64:20261122T023710Z',
    '@template:org.example.Desktop:arm64:20261122T023710Z',
    '@template:org.example.Desktop:x86_64:latest',
    '.staging.123.abcd',
    '',
  ])('returns undefined for %j', (s) => {
    expect(parseSubvolumeName(s)).toBeUndefined();
  });
});
