/**
 * Whole-tree operations on directories through coreutils: copying a root
 * filesystem with everything that makes it one (owners, modes, hard links,
 * xattrs incl. ACLs and file capabilities, devices, fifos, sockets), and
 * measuring its apparent size.
 */
import { run } from './run.ts';

/**
 * Copies the contents of `source` into the existing directory `target`, and
 * `source`'s own mode, owner, times and xattrs onto `target`.
 * `-R` without `--copy-contents` recreates devices and fifos instead of
 * reading them; listing the preserved attributes (rather than `-a`'s
 * `--preserve=all`) makes a failure to preserve xattrs an error, not a
 * silently poorer copy. `--reflink=auto` shares extents on the same btrfs.
 */
export async function copyTree(source: string, target: string): Promise<void> {
  await run('cp', [
    '--recursive', '--no-dereference', '--preserve=mode,ownership,timestamps,links,xattr',
    '--reflink=auto', '--', `${source}/.`, `${target}/`,
  ]);
}

/** Apparent size in bytes (what the files hold, hard links counted once), like `du -s --apparent-size`. */
export async function apparentSize(path: string): Promise<number> {
  const { stdout } = await run('du', ['--summarize', '--block-size=1', '--apparent-size', '--', path]);
  const bytes = Number(stdout.split(/\s/, 1)[0]);
  if (!Number.isSafeInteger(bytes)) throw new Error(`Cannot read du output: ${JSON.stringify(stdout.slice(0, 80))}`);
  return bytes;
}
