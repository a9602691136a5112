/**
 * Makes the writable subvolume a new version starts as, from a directory
 * (copied), a subvolume (snapshotted) or a stopped LXC container (its rootfs
 * snapshotted when it is a subvolume on the pool's filesystem, copied otherwise).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { TrowelError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { createSubvolume, isSubvolume, snapshot } from '../sys/btrfs.ts';
import { defaultLxcPath, lxcState } from '../sys/lxc.ts';
import { CommandError } from '../sys/run.ts';
import { copyTree } from '../sys/tree.ts';
import { parseLxcRootfs } from './lxc-config.ts';
import type { PublishSource } from './types.ts';

export interface MaterializeContext {
  /** The pool root, which a copied directory must not contain. */
  poolRoot: string;
  log: Logger;
  progress(line: string): void;
}

/** Creates `target` (a new subvolume) from `from`; returns the sidecar's `source` string. */
export async function materialize(from: PublishSource, target: string, ctx: MaterializeContext): Promise<string> {
  switch (from.kind) {
    case 'dir': {
      const path = await existingDirectory(from.path, 'directory');
      await copyInto(path, target, ctx);
      return `dir:${path}`;
    }
    case 'subvolume': {
      const path = await existingDirectory(from.path, 'subvolume');
      if (!(await isSubvolume(path))) {
        throw new TrowelError('ENOTSUBVOL', `Cannot publish from subvolume ${path}: it is not a btrfs subvolume`, { hint: `use --from ${path} to copy a plain directory` });
      }
      ctx.progress(`snapshotting ${path}`);
      if (!(await trySnapshot(path, target))) {
        throw new TrowelError('ECROSSFS', `Cannot publish from subvolume ${path}: it is on another filesystem than the pool ${ctx.poolRoot}`, {
          hint: `snapshots stay on one filesystem; use --from ${path} to copy it instead`,
        });
      }
      return `subvolume:${path}`;
    }
    case 'lxc':
      return materializeLxc(from.name, from.lxcPath, target, ctx);
    default:
      throw new TrowelError('EBADSOURCE', `Cannot publish: unknown source kind ${JSON.stringify((from as { kind: unknown }).kind)}`);
  }
}

/** @private */
async function materializeLxc(name: string, lxcPathOption: string | undefined, target: string, ctx: MaterializeContext): Promise<string> {
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new TrowelError('EBADSOURCE', `Cannot publish from LXC container ${JSON.stringify(name)}: that is not a container name`);
  }
  const lxcPath = resolve(lxcPathOption ?? (await defaultLxcPath()));
  const state = await lxcState(name, lxcPath);
  if (state === undefined) {
    throw new TrowelError('ENOCONTAINER', `Cannot publish from LXC container ${name}: it does not exist in ${lxcPath}`, { hint: 'see lxc-ls -P ' + lxcPath });
  }
  // A running container's rootfs changes under the snapshot and carries its live state (pids, sockets, logs).
  if (state !== 'STOPPED') {
    throw new TrowelError('ERUNNING', `Cannot publish from LXC container ${name}: it is ${state}`, { hint: `stop it first: lxc-stop -n ${name} -P ${lxcPath}` });
  }
  const config = await readFile(join(lxcPath, name, 'config'), 'utf8');
  const rootfs = parseLxcRootfs(config, name)?.path ?? join(lxcPath, name, 'rootfs');
  const source = `lxc:${join(lxcPath, name)}`;
  if (await isSubvolume(rootfs)) {
    ctx.progress(`snapshotting ${rootfs} (LXC container ${name})`);
    if (await trySnapshot(rootfs, target)) return source;
    ctx.log.info('lxc_rootfs_other_filesystem', { container: name, rootfs });
  }
  await copyInto(await existingDirectory(rootfs, 'container rootfs'), target, ctx);
  return source;
}

/** @private Copies a directory into a new subvolume, refusing one that holds the pool (the copy would copy itself). */
async function copyInto(path: string, target: string, ctx: MaterializeContext): Promise<void> {
  const pool = await realpath(ctx.poolRoot);
  const rel = relative(path, pool);
  if (rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep))) {
    throw new TrowelError('EBADSOURCE', `Cannot publish from directory ${path}: it contains the pool ${ctx.poolRoot}`);
  }
  await createSubvolume(target);
  ctx.progress(`copying ${path}`);
  await copyTree(path, target);
}

/** @private False when btrfs refuses a snapshot across filesystems (EXDEV); other failures throw. */
async function trySnapshot(source: string, target: string): Promise<boolean> {
  try {
    await snapshot(source, target);
    return true;
  } catch (e) {
    if (e instanceof CommandError && /cross-device/i.test(e.stderr)) return false;
    throw e;
  }
}

/** @private The real path of an existing directory, or a one-line error. */
async function existingDirectory(path: string, what: string): Promise<string> {
  const abs = resolve(path);
  try {
    if ((await stat(abs)).isDirectory()) return await realpath(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new TrowelError('ENOSOURCE', `Cannot publish from ${what} ${abs}: it does not exist`);
  }
  throw new TrowelError('ENOSOURCE', `Cannot publish from ${what} ${abs}: it is not a directory`);
}
