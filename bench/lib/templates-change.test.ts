import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRuntimeFile, listFiles, pickPercent, rewriteRandom, seededRandom } from './templates-change.ts';

describe('seededRandom', () => {
  it('gives the same sequence for the same seed and another for another seed, all in [0, 1)', () => {
    const a = Array.from({ length: 5 }, seededRandom(3));
    const b = Array.from({ length: 5 }, seededRandom(3));
    const c = Array.from({ length: 5 }, seededRandom(4));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    for (const x of a) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('pickPercent', () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);

  it('picks the rounded share, without repeats, in the original order, the same for the same seed', () => {
    const picked = pickPercent(items, 1, 3);
    expect(picked).toHaveLength(10);
    expect(new Set(picked).size).toBe(10);
    expect([...picked].sort((x, y) => x - y)).toEqual(picked);
    expect(pickPercent(items, 1, 3)).toEqual(picked);
    expect(pickPercent(items, 1, 4)).not.toEqual(picked);
  });

  it('picks at least one of a small list, and none of an empty one', () => {
    expect(pickPercent([7, 8, 9], 1, 1)).toHaveLength(1);
    expect(pickPercent([], 1, 1)).toEqual([]);
  });

  it('refuses a share outside (0, 100]', () => {
    expect(() => pickPercent(items, 0, 1)).toThrow(RangeError);
    expect(() => pickPercent(items, 101, 1)).toThrow(RangeError);
  });
});

describe('isRuntimeFile', () => {
  it('is true for programs, shared objects and the loader cache', () => {
    for (const rel of ['usr/bin/find', 'usr/sbin/chroot', 'bin/sh', 'usr/lib/x86_64-linux-gnu/libc.so.6', 'usr/lib64/ld-linux-x86-64.so.2', 'usr/lib/x86_64-linux-gnu/libpcre2-8.so.0.11.2', 'etc/ld.so.cache']) {
      expect(isRuntimeFile(rel)).toBe(true);
    }
  });

  it('is false for data, documentation, modules and configuration', () => {
    for (const rel of ['usr/share/doc/bash/copyright', 'usr/lib/modules/6.1.0-50-amd64/kernel/fs/btrfs/btrfs.ko', 'etc/binfmt.d/x.conf', 'usr/share/sbinfo', 'etc/ld.so.conf']) {
      expect(isRuntimeFile(rel)).toBe(false);
    }
  });
});

describe('listFiles and rewriteRandom', () => {
  it('lists non-empty regular non-runtime files once per inode, and rewrites them keeping their sizes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'trowel-change-test-'));
    try {
      mkdirSync(join(root, 'usr/bin'), { recursive: true });
      mkdirSync(join(root, 'etc'));
      writeFileSync(join(root, 'etc/a.conf'), 'alpha\n');
      writeFileSync(join(root, 'etc/empty'), '');
      writeFileSync(join(root, 'usr/bin/tool'), 'binary');
      writeFileSync(join(root, 'big.dat'), Buffer.alloc(1024 * 1024 + 5, 1));
      linkSync(join(root, 'etc/a.conf'), join(root, 'etc/b.conf'));
      const files = await listFiles(root);
      expect(files.map((f) => [f.path.slice(root.length + 1), f.size])).toEqual([['big.dat', 1024 * 1024 + 5], ['etc/a.conf', 6]]);
      expect(rewriteRandom(files)).toBe(1024 * 1024 + 11);
      expect(statSync(join(root, 'big.dat')).size).toBe(1024 * 1024 + 5);
      expect(readFileSync(join(root, 'big.dat')).equals(Buffer.alloc(1024 * 1024 + 5, 1))).toBe(false);
      expect(readFileSync(join(root, 'etc/b.conf')).toString()).not.toBe('alpha\n');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
