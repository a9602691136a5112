import { describe, expect, it } from 'vitest';
import { MachineStore, openDatabase } from '../store/index.ts';
import { bearerToken, requireAdmin, requireMachine, tokensEqual } from './auth.ts';
import { HttpError } from './http-error.ts';

const ADMIN = 'c2VjcmV0LWFkbWluLXRva2VuLWZvci10ZXN0cw';

function withAuth(value?: string): Request {
  return new Request('http://t/x', { headers: value === undefined ? {} : { authorization: value } });
}

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof HttpError) return e.status;
    throw e;
  }
}

describe('bearerToken', () => {
  it('reads the Bearer scheme case-insensitively and nothing else', () => {
    expect(bearerToken(withAuth(`Bearer ${ADMIN}`))).toBe(ADMIN);
    expect(bearerToken(withAuth(`bearer   ${ADMIN}`))).toBe(ADMIN);
    expect(bearerToken(withAuth(`Basic ${ADMIN}`))).toBeUndefined();
    expect(bearerToken(withAuth('Bearer'))).toBeUndefined();
    expect(bearerToken(withAuth())).toBeUndefined();
  });
});

describe('requireAdmin', () => {
  it('accepts the admin token', () => {
    expect(statusOf(() => requireAdmin(withAuth(`Bearer ${ADMIN}`), ADMIN))).toBeUndefined();
  });

  it('answers 401 with a Bearer challenge when no token is sent', () => {
    let err: unknown;
    try {
      requireAdmin(withAuth(), ADMIN);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(401);
    expect((err as HttpError).headers['www-authenticate']).toBe('Bearer realm="trowel"');
  });

  it('answers 403 for a wrong token, a prefix of it, or one with extra characters', () => {
    for (const t of ['wrong', ADMIN.slice(0, -1), ADMIN + 'x']) {
      expect(statusOf(() => requireAdmin(withAuth(`Bearer ${t}`), ADMIN)), t).toBe(403);
    }
  });
});

describe('requireMachine', () => {
  const store = new MachineStore(openDatabase(':memory:'));
  const a = store.recordContact({ mac: '52:54:00:00:00:0a' });
  const b = store.recordContact({ mac: '52:54:00:00:00:0b' });

  it('returns the machine whose own token is presented', () => {
    expect(requireMachine(withAuth(`Bearer ${a.token}`), store, a.mac).mac).toBe(a.mac);
  });

  it("refuses one machine's token for another machine's record", () => {
    expect(statusOf(() => requireMachine(withAuth(`Bearer ${b.token}`), store, a.mac))).toBe(403);
  });

  it('answers 401 without a token and 403 for an unknown machine', () => {
    expect(statusOf(() => requireMachine(withAuth(), store, a.mac))).toBe(401);
    expect(statusOf(() => requireMachine(withAuth(`Bearer ${a.token}`), store, '52:54:00:00:00:ff'))).toBe(403);
  });
});

describe('tokensEqual', () => {
  it('compares whole strings and never matches an empty expected token', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('', '')).toBe(false);
  });
});
