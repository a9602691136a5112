/**
 * A canonical description of a directory tree, for byte-for-byte comparisons
 * of a template with its copy or its received stream: per entry the type,
 * mode, owner, size, content hash, symlink target, extended attributes, and
 * which entries are hard links of each other. Two trees are identical when
 * their snapshots are deep-equal. Times are left out (send/receive and copies
 * may legitimately change atimes).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/sys/run.ts';

export interface TreeEntry {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
  xattrs: Record<string, string>;
  /** The first path (in sorted order) of this entry's hard-link group, when it has more than one link. */
  hardlinkOf?: string;
}

export async function treeSnapshot(root: string): Promise<Record<string, TreeEntry>> {
  // %P path, %y type, %m mode, %U uid, %G gid, %s size, %l link target, %i inode, %n link count
  const { stdout } = await run('find', [root, '-mindepth', '1', '-printf', '%P\\0%y\\0%m\\0%U\\0%G\\0%s\\0%l\\0%i\\0%n\\0']);
  const fields = stdout.split('\0');
  const rows: string[][] = [];
  for (let i = 0; i + 9 <= fields.length; i += 9) rows.push(fields.slice(i, i + 9));
  rows.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  const xattrs = await readXattrs(root);
  const firstByInode = new Map<string, string>();
  const out: Record<string, TreeEntry> = {};
  for (const [path, type, mode, uid, gid, size, target, inode, links] of rows as string[][] as [string, string, string, string, string, string, string, string, string][]) {
    const entry: TreeEntry = { type, mode, uid: Number(uid), gid: Number(gid), xattrs: xattrs.get(path) ?? {} };
    if (type === 'f') {
      entry.size = Number(size);
      entry.sha256 = createHash('sha256').update(await readFile(join(root, path))).digest('hex');
    }
    if (type === 'l') entry.target = target;
    if (type !== 'd' && Number(links) > 1) {
      const first = firstByInode.get(inode);
      if (first) entry.hardlinkOf = first;
      else firstByInode.set(inode, path);
    }
    out[path] = entry;
  }
  return out;
}

/** All extended attributes (every namespace) of every entry, keyed by path relative to root. */
async function readXattrs(root: string): Promise<Map<string, Record<string, string>>> {
  const { stdout } = await run('getfattr', ['-R', '-d', '-h', '-m', '-', '-e', 'hex', '--absolute-names', root], { okCodes: [0, 1] });
  const byPath = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      const abs = line.slice('# file: '.length);
      current = {};
      byPath.set(abs === root ? '' : abs.slice(root.length + 1), current);
    } else if (current && line.includes('=')) {
      const eq = line.indexOf('=');
      current[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return byPath;
}
