/**
 * A btrfs filesystem on a loop device, for tests and the lab: a sparse image
 * file, `mkfs.btrfs`, mounted at a temp dir. `destroy()` unmounts (lazily if
 * busy), detaches the loop device and deletes the image, even after a failure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../sys/run.ts';

export interface LoopBtrfs {
  /** Where the filesystem is mounted. */
  mountpoint: string;
  /** The loop device, e.g. /dev/loop3. */
  device: string;
  destroy(): Promise<void>;
}

export async function createLoopBtrfs(sizeMiB = 512, label = 'trowel-test'): Promise<LoopBtrfs> {
  const dir = await mkdtemp(join(tmpdir(), 'trowel-btrfs-'));
  const image = join(dir, 'disk.img');
  const mountpoint = join(dir, 'mnt');
  let device = '';
  let mounted = false;
  const destroy = async () => {
    if (mounted) await run('umount', [mountpoint]).catch(() => run('umount', ['-l', mountpoint]).catch(() => {}));
    if (device) await run('losetup', ['-d', device]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('truncate', ['-s', `${sizeMiB}M`, image]);
    await run('mkfs.btrfs', ['-q', '-L', label, image]);
    device = (await run('losetup', ['--find', '--show', image])).stdout.trim();
    await run('mkdir', ['-p', mountpoint]);
    await run('mount', [device, mountpoint]);
    mounted = true;
    return { mountpoint, device, destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}
