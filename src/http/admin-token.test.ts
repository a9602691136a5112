import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { loadOrCreateAdminToken } from './admin-token.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'trowel-admin-token-'));
  dirs.push(d);
  return d;
}

describe('loadOrCreateAdminToken', () => {
  it('creates <stateDir>/admin.token: 32 random bytes in hex (never a leading dash), mode 0600', () => {
    const stateDir = join(tempDir(), 'state');
    const token = loadOrCreateAdminToken(stateDir);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const file = join(stateDir, 'admin.token');
    expect(readFileSync(file, 'utf8')).toBe(`${token}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('reuses an existing token and makes a different one elsewhere', () => {
    const a = tempDir();
    const first = loadOrCreateAdminToken(a);
    expect(loadOrCreateAdminToken(a)).toBe(first);
    expect(loadOrCreateAdminToken(tempDir())).not.toBe(first);
  });

  it('refuses an empty or garbled token file with a hint', () => {
    const d = tempDir();
    writeFileSync(join(d, 'admin.token'), '\n');
    expect(() => loadOrCreateAdminToken(d)).toThrow(TrowelError);
    expect(() => loadOrCreateAdminToken(d)).toThrow(/Cannot use admin token .*admin\.token: it is not a token/);
  });
});
