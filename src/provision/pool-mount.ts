/**
 * The target's btrfs pool, mounted at its top level (subvolid 5) so every
 * subvolume is a directory under it, whatever the default subvolume is.
 */
import { run } from '../sys/run.ts';

export async function mountPoolTop(device: string, mountpoint: string): Promise<void> {
  await run('mount', ['-t', 'btrfs', '-o', 'subvolid=5', device, mountpoint]);
}

/** Unmounts; a busy mount is detached lazily rather than left behind. */
export async function unmount(mountpoint: string): Promise<void> {
  await run('umount', [mountpoint]).catch(() => run('umount', ['--lazy', mountpoint]));
}
