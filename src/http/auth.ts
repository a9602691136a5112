/**
 * Bearer-token checks for the API (RFC 6750). Two kinds of caller:
 * the admin (one token in <stateDir>/admin.token, for the CLI and operators)
 * and a booting machine (its own token, handed out in its iPXE script),
 * which may act only on its own record. Missing token: 401 with
 * WWW-Authenticate; wrong token: 403. Tokens are compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Machine, MachineStore } from '../store/machines.ts';
import { HttpError } from './http-error.ts';

const CHALLENGE = { 'www-authenticate': 'Bearer realm="trowel"' };

/** The token from `Authorization: Bearer <token>`, or undefined when absent or another scheme. */
export function bearerToken(request: Request): string | undefined {
  const m = /^Bearer[ ]+([\w.~+/=-]+)[ ]*$/i.exec(request.headers.get('authorization') ?? '');
  return m?.[1];
}

/** Throws 401/403 unless the request carries the admin token. */
export function requireAdmin(request: Request, adminToken: string): void {
  const presented = requireToken(request);
  if (!tokensEqual(presented, adminToken)) {
    throw new HttpError(403, 'forbidden', 'Cannot authorize the request: the bearer token is not the admin token');
  }
}

/**
 * Throws 401/403 unless the request carries the token of machine `mac`
 * (a machine may only act on its own record); returns that machine.
 */
export function requireMachine(request: Request, machines: MachineStore, mac: string): Machine {
  const presented = requireToken(request);
  const machine = machines.get(mac);
  // An unknown MAC is answered like a wrong token, so the answer does not tell which MACs exist.
  if (!machine || !tokensEqual(presented, machine.token)) {
    throw new HttpError(403, 'forbidden', `Cannot authorize the request: the bearer token is not the token of ${mac}`);
  }
  return machine;
}

/**
 * Constant-time comparison. Both sides are hashed first so timingSafeEqual
 * gets equal lengths and the comparison time says nothing about the length.
 */
export function tokensEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && b.length > 0;
}

/** @private */
function requireToken(request: Request): string {
  const token = bearerToken(request);
  if (token === undefined) {
    throw new HttpError(401, 'unauthorized', 'Cannot authorize the request: send Authorization: Bearer <token>', { headers: CHALLENGE });
  }
  return token;
}
