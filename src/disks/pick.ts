/**
 * Which disk to install on (pure). `auto` takes the single disk that is
 * neither removable nor read-only and is big enough; a path or a serial
 * names one. Nothing is chosen that would lose data: a disk holding
 * partitions or filesystems is refused unless the plan allows wiping, and
 * layout `keep` needs a trowel pool already on the disk; layout `free` keeps
 * what is there and needs room beside it. Every refusal says
 * which disks were seen and why each does not qualify.
 */
import { TrowelError } from '../errors.ts';
import { formatBytes } from '../stream/progress.ts';
import { ESP_LABEL, FREE_SPACE_BYTES, freeRegions, minimumDiskBytes, planPartitions, POOL_LABEL } from './plan.ts';
import type { Disk, Partition } from './types.ts';

export interface PickOptions {
  /** The plan allows erasing partitions and filesystems. */
  wipe: boolean;
  /** Layout keep: the disk must already hold a trowel pool, which is reused. */
  keep?: boolean;
  /** Layout free: what the disk holds stays; it needs a GPT with room for trowel's partitions. */
  free?: boolean;
  /** Default: what the GPT layout needs (minimumDiskBytes('auto')). */
  minBytes?: number;
}

const WIPE_HINT = 'set wipe: true in the plan or trowel.wipe=1';
const NAME_HINT = 'name one with trowel.disk=/dev/<name> or trowel.disk=<serial>';

export function pickDisk(disks: readonly Disk[], spec: string, options: PickOptions): Disk {
  const minBytes = options.minBytes ?? minimumDiskBytes('auto');
  const disk = spec === 'auto' ? pickAuto(disks, minBytes, options) : findDisk(disks, spec);
  if (disk.readonly) throw new TrowelError('EDISKREADONLY', `Cannot use ${disk.path}: it is read-only`, { hint: NAME_HINT.replace('name one', 'name another') });
  if (disk.sizeBytes < minBytes) {
    throw new TrowelError('EDISKSMALL', `Cannot use ${disk.path}: it holds ${formatBytes(disk.sizeBytes)}, less than the ${formatBytes(minBytes)} trowel needs`);
  }
  if (options.keep) {
    if (!trowelPartitions(disk)) {
      throw new TrowelError('ENOPOOL', `Cannot keep the partitions of ${disk.path}: it holds no trowel pool (a btrfs filesystem labelled "${POOL_LABEL}")`, {
        hint: 'use trowel.layout=auto (with wipe) to partition it',
      });
    }
    return disk;
  }
  if (options.free) {
    // The planner's own refusal names the table or the largest gap.
    planPartitions(disk, 'free');
    return disk;
  }
  const contents = describeContents(disk);
  if (contents !== undefined && !options.wipe) {
    throw new TrowelError('EDISKINUSE', `Cannot use ${disk.path}: it holds ${contents} and the plan does not allow wiping`, { hint: WIPE_HINT });
  }
  return disk;
}

/** The pool (and ESP) of an earlier trowel install on `disk`, found by their filesystem labels. */
export function trowelPartitions(disk: Disk): { pool: Partition; esp: Partition | undefined } | undefined {
  const pool = disk.partitions.find((p) => p.filesystem?.type === 'btrfs' && p.filesystem.label === POOL_LABEL);
  if (!pool) return undefined;
  return { pool, esp: disk.partitions.find((p) => p.filesystem?.type === 'vfat' && p.filesystem.label === ESP_LABEL) };
}

/** One line for a disk in a list: "/dev/nvme0n1 (512 MiB nvme, QEMU NVMe Ctrl, serial NVME-0001)". */
export function describeDisk(disk: Disk): string {
  const details = [`${formatBytes(disk.sizeBytes)} ${disk.transport}`, disk.model, disk.serial && `serial ${disk.serial}`].filter(Boolean);
  return `${disk.path} (${details.join(', ')})`;
}

/**
 * What on the disk would be lost, or undefined when nothing: "2 partitions
 * (ext4 'data', ntfs)", "a vfat filesystem 'MY DISK'". An empty partition
 * table holds nothing.
 */
export function describeContents(disk: Disk): string | undefined {
  if (disk.probeError !== undefined) return `contents trowel cannot read (${disk.probeError})`;
  if (disk.partitions.length > 0) {
    const what = disk.partitions.map((p) => (p.filesystem ? describeFilesystem(p.filesystem) : 'unformatted')).join(', ');
    return `${disk.partitions.length === 1 ? '1 partition' : `${disk.partitions.length} partitions`} (${what})`;
  }
  if (disk.filesystem) return `a ${describeFilesystem(disk.filesystem)} filesystem`;
  return undefined;
}

/** @private */
function describeFilesystem(fs: { type: string; label: string | undefined }): string {
  return fs.label ? `${fs.type} '${fs.label}'` : fs.type;
}

/** True when layout free fits on the disk: a GPT with a large enough unallocated region. */
export function hasFreeSpace(disk: Disk): boolean {
  return disk.partitionTable === 'gpt' && (freeRegions(disk)[0]?.sizeBytes ?? 0) >= FREE_SPACE_BYTES;
}

/** @private */
function pickAuto(disks: readonly Disk[], minBytes: number, options: PickOptions): Disk {
  const keep = options.keep === true;
  if (disks.length === 0) {
    throw new TrowelError('ENODISK', 'Cannot choose a disk: this machine has no disks', {
      hint: 'check that the disk controller driver is loaded (virtio_blk, ahci, nvme, mmc_block)',
    });
  }
  const reasons: string[] = [];
  const candidates = disks.filter((d) => {
    const why = d.removable ? 'removable' : d.readonly ? 'read-only' : d.sizeBytes < minBytes ? `smaller than ${formatBytes(minBytes)}` : keep && !trowelPartitions(d) ? 'without a trowel pool'
      : options.free && !hasFreeSpace(d) ? 'without enough free space on a GPT' : undefined;
    if (why) reasons.push(`${d.path} is ${why}`);
    return why === undefined;
  });
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw new TrowelError('ENODISK', `Cannot choose a disk: none of the ${disks.length} qualifies (${reasons.join(', ')})`, {
      hint: keep ? 'use trowel.layout=auto to partition a disk' : NAME_HINT,
    });
  }
  throw new TrowelError('EAMBIGUOUS', `Cannot choose a disk: ${candidates.length} qualify: ${candidates.map(describeDisk).join('; ')}`, { hint: NAME_HINT });
}

/** @private A path names a disk by its node; anything else is a serial (or a wwid). */
function findDisk(disks: readonly Disk[], spec: string): Disk {
  const found = spec.startsWith('/') ? disks.find((d) => d.path === spec) : disks.find((d) => d.serial === spec || d.wwid === spec);
  if (found) return found;
  const partitionOf = spec.startsWith('/') ? disks.find((d) => d.partitions.some((p) => p.path === spec)) : undefined;
  if (partitionOf) {
    throw new TrowelError('ENODISK', `Cannot use ${spec}: it is a partition of ${partitionOf.path}, not a disk`, { hint: `use trowel.disk=${partitionOf.path}` });
  }
  const seen = disks.length === 0 ? 'this machine has no disks' : `the disks are ${disks.map(describeDisk).join('; ')}`;
  throw new TrowelError('ENODISK', `Cannot find disk ${spec}: ${seen}`, { hint: NAME_HINT });
}
