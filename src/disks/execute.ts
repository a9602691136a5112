/**
 * Carries out a partition plan: the only code in trowel that writes a
 * partition table or a filesystem. Old signatures go first (wipefs), so no
 * stale filesystem is found at a new partition's offset; sfdisk writes the
 * table; then we wait for the kernel's partition nodes. sfdisk asks the
 * kernel to re-read the table (BLKRRPART), which some devices refuse or do
 * only halfway (loop devices drop the old partitions and add none); so
 * `partx -u` then tells the kernel partition by partition (BLKPG), which is
 * what partprobe would do, without needing udev. A plan that appends
 * (layout free) erases nothing: sfdisk adds its partitions to the table.
 */
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrowelError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { run } from '../sys/run.ts';
import { ESP_LABEL, POOL_LABEL, type PartitionPlan } from './plan.ts';
import type { Disk } from './types.ts';

export interface ExecuteOptions {
  log?: Logger;
  /** How long to wait for the partition nodes (default 15 s). */
  nodeTimeoutMs?: number;
}

const POLL_MS = 100;

/** Erases `disk` and writes the plan's partition table; resolves when every partition node exists. */
export async function writePartitions(disk: Disk, plan: PartitionPlan, options: ExecuteOptions = {}): Promise<void> {
  const log = options.log ?? silentLogger;
  if (!plan.append) {
    // Partitions first: once the table is gone their nodes (and signatures' offsets) are no longer known.
    for (const partition of disk.partitions) {
      if (await isBlockDevice(partition.path)) await run('wipefs', ['--all', '--quiet', partition.path]);
    }
    await run('wipefs', ['--all', '--quiet', disk.path]);
  }
  // --wipe-partitions clears old signatures inside the new partitions only.
  const mode = plan.append ? ['--append', '--wipe', 'never'] : ['--wipe', 'always'];
  const { stderr } = await run('sfdisk', [...mode, '--wipe-partitions', 'always', '--quiet', disk.path], { input: plan.script });
  if (stderr.trim()) log.warn('sfdisk_said', { disk: disk.path, stderr: stderr.trim() });
  // Always: where the kernel's own re-read failed, nodes of the OLD table may
  // still exist under the same names, and a mkfs would land at old offsets.
  await run('partx', ['--update', disk.path]).catch(async (e: unknown) => {
    // Without partx (an image that lacks it), ask for a whole re-read; a busy disk fails here, never silently.
    if (!(e instanceof TrowelError && / is not installed$/.test(e.message))) throw e;
    log.warn('partx_missing', { disk: disk.path, fallback: 'blockdev --rereadpt' });
    await run('blockdev', ['--rereadpt', disk.path]);
  });
  const paths = plan.partitions.map((p) => p.path);
  if (!(await waitForNodes(paths, options.nodeTimeoutMs ?? 15_000))) {
    const missing = [];
    for (const p of paths) if (!(await isBlockDevice(p))) missing.push(p);
    throw new TrowelError('EPARTNODES', `Cannot find the new partitions of ${disk.path}: ${missing.join(', ')} did not appear`, {
      hint: 'the kernel did not take the new partition table; is the disk in use?',
    });
  }
  log.info('partitions_written', { disk: disk.path, table: plan.table, partitions: paths });
}

/** Makes the ESP (FAT32, as UEFI requires) and the btrfs pool. */
export async function makeFilesystems(plan: Pick<PartitionPlan, 'esp' | 'pool'>, options: { log?: Logger } = {}): Promise<void> {
  const log = options.log ?? silentLogger;
  await run('mkfs.vfat', ['-F', '32', '-n', ESP_LABEL, plan.esp]);
  await run('mkfs.btrfs', ['--quiet', '-f', '-L', POOL_LABEL, plan.pool]);
  log.info('filesystems_made', { esp: plan.esp, pool: plan.pool });
}

/** @private True once every path is a block device, false after `timeoutMs`. */
async function waitForNodes(paths: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let all = true;
    for (const p of paths) if (!(await isBlockDevice(p))) all = false;
    if (all) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/** @private */
async function isBlockDevice(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isBlockDevice(), () => false);
}
