/**
 * The admin API token: `<stateDir>/admin.token`, 32 random bytes in hex
 * (never base64url: a token starting with '-' reads as an option on a
 * command line, `--token -x…`), readable by its owner only (mode 0600). Created on first start
 * and reused afterwards, so the CLI on the server finds it without setup.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrowelError } from '../errors.ts';

export const ADMIN_TOKEN_FILE = 'admin.token';

export function loadOrCreateAdminToken(stateDir: string): string {
  const file = join(stateDir, ADMIN_TOKEN_FILE);
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const token = randomBytes(32).toString('hex');
    // 'wx' fails if the file exists, so two servers starting at once cannot both write one.
    writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
    return token;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new TrowelError('EADMINTOKEN', `Cannot create admin token ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
  }
  return readAdminToken(file);
}

/** Reads an existing token file (also used by the CLI). */
export function readAdminToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TrowelError('EADMINTOKEN', `Cannot read admin token ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  const token = text.trim();
  if (!/^[\w-]{16,}$/.test(token)) {
    throw new TrowelError('EADMINTOKEN', `Cannot use admin token ${file}: it is not a token (16 or more letters, digits, '_' or '-')`, { hint: 'delete the file and restart trowel serve to make a new one' });
  }
  return token;
}
