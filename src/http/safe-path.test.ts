import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveInsideRoot } from './safe-path.ts';

const base = mkdtempSync(join(tmpdir(), 'trowel-safe-path-'));
const root = join(base, 'root');
mkdirSync(join(root, 'efi'), { recursive: true });
writeFileSync(join(root, 'vmlinuz'), 'k');
writeFileSync(join(root, 'efi', 'a b.efi'), 'e');
writeFileSync(join(root, '..hidden'), 'h');
writeFileSync(join(base, 'secret'), 's');
symlinkSync(join(base, 'secret'), join(root, 'escape'));
symlinkSync('vmlinuz', join(root, 'alias'));
symlinkSync(base, join(root, 'updir'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('resolveInsideRoot', () => {
  it('resolves plain and %-encoded names inside the root', async () => {
    expect(await resolveInsideRoot(root, 'vmlinuz')).toEqual({ ok: true, path: join(root, 'vmlinuz') });
    expect(await resolveInsideRoot(root, 'efi/a%20b.efi')).toEqual({ ok: true, path: join(root, 'efi', 'a b.efi') });
    expect(await resolveInsideRoot(root, '..hidden')).toEqual({ ok: true, path: join(root, '..hidden') });
  });

  it('follows a symlink that stays inside the root', async () => {
    expect(await resolveInsideRoot(root, 'alias')).toEqual({ ok: true, path: join(root, 'vmlinuz') });
  });

  it('refuses dot-dot in plain and encoded forms, and NUL', async () => {
    for (const p of ['../secret', 'efi/../../secret', '..%2fsecret', '%2e%2e%2fsecret', '%2E%2E/secret', 'vmlinuz%00.efi']) {
      expect(await resolveInsideRoot(root, p), p).toEqual({ ok: false, reason: 'traversal' });
    }
  });

  it('refuses a symlink that leads out of the root', async () => {
    expect(await resolveInsideRoot(root, 'escape')).toEqual({ ok: false, reason: 'outside_root' });
    expect(await resolveInsideRoot(root, 'updir/secret')).toEqual({ ok: false, reason: 'outside_root' });
  });

  it('reports missing files and malformed escapes', async () => {
    expect(await resolveInsideRoot(root, 'nope')).toEqual({ ok: false, reason: 'not_found' });
    expect(await resolveInsideRoot(root, 'vmlinuz/child')).toEqual({ ok: false, reason: 'not_found' });
    expect(await resolveInsideRoot(root, '%E0%A4%A')).toEqual({ ok: false, reason: 'bad_encoding' });
  });

  it('returns the root itself for an empty path (the caller refuses directories)', async () => {
    expect(await resolveInsideRoot(root, '')).toEqual({ ok: true, path: root });
  });
});
