/**
 * The update of the incremental benchmark: 1% of a tree's files (by count)
 * rewritten with random bytes of the same sizes (programs and libraries
 * excepted: the publish runs the template's hooks inside the tree). The choice is seeded, so
 * a rerun on the same template changes the same files; the contents are
 * random, so neither btrfs nor zstd can make them smaller than they are.
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { seededRandom } from '../../test/helpers/seeded-random.ts';

export interface TreeFile {
  path: string;
  size: number;
}

/**
 * Files the template's prepare hooks need to run (publish runs them in a
 * chroot of the new version: /bin/sh, rm, find and their libraries), which
 * random bytes would break: programs in a bin or sbin directory, shared
 * objects (the loader included), the loader's cache. `rel` is relative to
 * the tree's root.
 */
export function isRuntimeFile(rel: string): boolean {
  return /(^|\/)s?bin\//.test(rel) || /\.so(\.[\d.]+)?$/.test(rel) || rel === 'etc/ld.so.cache';
}

/**
 * Non-empty regular files under `root` that are not runtime files (see
 * above), one per inode (hard links count once), sorted by path.
 */
export async function listFiles(root: string): Promise<TreeFile[]> {
  const seen = new Set<string>();
  const out: TreeFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const st = await lstat(path);
        const inode = `${st.dev}:${st.ino}`;
        if (st.size > 0 && !seen.has(inode) && !isRuntimeFile(relative(root, path))) {
          seen.add(inode);
          out.push({ path, size: st.size });
        }
      }
    }
  };
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export { seededRandom };

/** `percent`% of `items` (at least one), chosen without repetition by a seeded shuffle; in their original order. */
export function pickPercent<T>(items: readonly T[], percent: number, seed: number): T[] {
  if (!(percent > 0 && percent <= 100)) throw new RangeError(`Cannot pick ${percent}% of the files: give more than 0 and at most 100`);
  if (items.length === 0) return [];
  const count = Math.max(1, Math.round((items.length * percent) / 100));
  const index = items.map((_, i) => i);
  const random = seededRandom(seed);
  // The first `count` steps of a Fisher-Yates shuffle.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (index.length - i));
    [index[i], index[j]] = [index[j]!, index[i]!];
  }
  return index.slice(0, count).sort((a, b) => a - b).map((i) => items[i]!);
}

/** Overwrites each file in place with random bytes, keeping its size; returns the bytes written. */
export function rewriteRandom(files: readonly TreeFile[]): number {
  const chunk = Buffer.alloc(1024 * 1024);
  let total = 0;
  for (const f of files) {
    const fd = openSync(f.path, 'r+');
    try {
      for (let offset = 0; offset < f.size; offset += chunk.length) {
        const piece = chunk.subarray(0, Math.min(chunk.length, f.size - offset));
        randomFillSync(piece);
        writeSync(fd, piece, 0, piece.length, offset);
      }
    } finally {
      closeSync(fd);
    }
    total += f.size;
  }
  return total;
}
