import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffPackages, parseDpkgStatus, readTemplatePackages } from './packages.ts';

// Paragraphs copied from a Debian 12 /var/lib/dpkg/status; versions and states edited to make two releases.
const FIXTURES = join(import.meta.dirname, '../../test/fixtures/dpkg');
const parentStatus = () => readFile(join(FIXTURES, 'status-parent'), 'utf8');
const childStatus = () => readFile(join(FIXTURES, 'status-child'), 'utf8');

describe('parseDpkgStatus', () => {
  it('lists installed packages sorted by name and arch, skipping config-files leftovers', async () => {
    expect(parseDpkgStatus(await parentStatus())).toEqual([
      { name: 'base-files', version: '12.4+deb12u10', arch: 'amd64' },
      { name: 'bash', version: '5.2.15-2+b8', arch: 'amd64' },
      { name: 'busybox-static', version: '1:1.35.0-4+deb12u1+b1', arch: 'amd64' },
      { name: 'dpkg', version: '1.21.22', arch: 'amd64' },
      { name: 'libc6', version: '2.36-9+deb12u13', arch: 'amd64' },
      { name: 'libc6', version: '2.36-9+deb12u13', arch: 'i386' },
      { name: 'openssl', version: '3.0.17-1~deb12u2', arch: 'amd64' },
      { name: 'tzdata', version: '2025b-0+deb12u2', arch: 'all' },
    ]);
  });

  it('skips half-installed packages', async () => {
    const names = parseDpkgStatus(await childStatus()).map((p) => p.name);
    expect(names).toEqual(['base-files', 'bash', 'ca-certificates', 'dpkg', 'libc6', 'openssl', 'tzdata', 'zstd']);
  });

  it('reads CRLF files, whitespace-only separator lines, case-insensitive fields and continuation lines', () => {
    const text = [
      'package: a', 'STATUS: install ok triggers-pending', 'Version: 1', 'Description: x', ' Version: 9', ' .', '',
      ' \t', 'Package: b', 'Status: install ok unpacked', 'Version: 2', '', '',
      'Package: c', 'Status: hold ok installed', 'Version: 3', 'Architecture: arm64', '',
    ].join('\r\n');
    expect(parseDpkgStatus(text)).toEqual([
      { name: 'a', version: '1', arch: 'all' },
      { name: 'c', version: '3', arch: 'arm64' },
    ]);
  });

  it('returns nothing for an empty file or garbage', () => {
    expect(parseDpkgStatus('')).toEqual([]);
    expect(parseDpkgStatus('\n\n\x00\x01 binary\n:\n')).toEqual([]);
  });
});

describe('diffPackages', () => {
  it('reports added, removed and changed packages between two releases', async () => {
    const diff = diffPackages(parseDpkgStatus(await parentStatus()), parseDpkgStatus(await childStatus()));
    expect(diff).toEqual({
      added: [
        { name: 'ca-certificates', version: '20230311+deb12u1', arch: 'all' },
        { name: 'zstd', version: '1.5.4+dfsg2-5', arch: 'amd64' },
      ],
      removed: [
        { name: 'busybox-static', version: '1:1.35.0-4+deb12u1+b1', arch: 'amd64' },
        { name: 'libc6', version: '2.36-9+deb12u13', arch: 'i386' },
      ],
      changed: [
        { name: 'base-files', arch: 'amd64', from: '12.4+deb12u10', to: '12.4+deb12u11' },
        { name: 'libc6', arch: 'amd64', from: '2.36-9+deb12u13', to: '2.36-9+deb12u14' },
        { name: 'openssl', arch: 'amd64', from: '3.0.17-1~deb12u2', to: '3.0.19-1~deb12u2' },
      ],
    });
  });

  it('is empty for identical lists and shows an arch move as removed plus added', () => {
    const list = [{ name: 'x', version: '1', arch: 'amd64' }];
    expect(diffPackages(list, list)).toEqual({ added: [], removed: [], changed: [] });
    expect(diffPackages(list, [{ name: 'x', version: '1', arch: 'all' }])).toEqual({
      added: [{ name: 'x', version: '1', arch: 'all' }],
      removed: [{ name: 'x', version: '1', arch: 'amd64' }],
      changed: [],
    });
  });
});

describe('readTemplatePackages', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'trowel-dpkg-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads <root>/var/lib/dpkg/status', async () => {
    await mkdir(join(root, 'var/lib/dpkg'), { recursive: true });
    await writeFile(join(root, 'var/lib/dpkg/status'), await childStatus());
    expect((await readTemplatePackages(root))?.length).toBe(8);
  });

  it('returns undefined for a tree without dpkg', async () => {
    expect(await readTemplatePackages(root)).toBeUndefined();
    await writeFile(join(root, 'var'), 'a file, not a directory');
    expect(await readTemplatePackages(root)).toBeUndefined();
  });

  it('follows a symlink that stays inside the tree', async () => {
    await mkdir(join(root, 'data/dpkg'), { recursive: true });
    await writeFile(join(root, 'data/dpkg/status'), await parentStatus());
    await mkdir(join(root, 'var/lib'), { recursive: true });
    await symlink('../../data/dpkg', join(root, 'var/lib/dpkg'));
    expect((await readTemplatePackages(root))?.length).toBe(8);
  });

  it('refuses a status file that leads outside the template (absolute or relative symlink)', async () => {
    const outside = join(root, '..', `${root.split('/').pop()}-host-status`);
    await writeFile(outside, 'Package: secret\nStatus: install ok installed\nVersion: 1\n');
    try {
      const tree = join(root, 'tree');
      await mkdir(join(tree, 'var/lib/dpkg'), { recursive: true });
      await symlink(outside, join(tree, 'var/lib/dpkg/status'));
      await expect(readTemplatePackages(tree)).rejects.toMatchObject({ code: 'EOUTSIDE' });
      await rm(join(tree, 'var/lib/dpkg/status'));
      await symlink('../../../../../' + outside.split('/').pop(), join(tree, 'var/lib/dpkg/status'));
      await expect(readTemplatePackages(tree)).rejects.toMatchObject({ code: 'EOUTSIDE' });
    } finally {
      await rm(outside, { force: true });
    }
  });
});
