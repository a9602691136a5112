/**
 * The partition plan (docs/provisioning.md, "On the disk") as an sfdisk(8)
 * script plus the device names its partitions will get (pure).
 *
 * GPT (auto, gpt-uefi, gpt-bios: one table that both firmware types boot):
 *   1 bios  1 MiB    BIOS boot: where GRUB's i386-pc core.img goes, since a
 *                    GPT has no gap after the MBR to embed it in
 *   2 esp   256 MiB  EFI System Partition (vfat, label TROWEL-ESP)
 *   3 pool  rest     btrfs, label trowel
 * MBR (mbr, for firmware that cannot boot from a GPT disk): GRUB embeds
 * itself in the 1 MiB gap sfdisk leaves before the first partition.
 *   1 esp   256 MiB  type 0xef (UEFI firmware boots an ESP on MBR too)
 *   2 pool  rest     type 0x83, marked active for BIOSes that want one
 * Free space (free: beside another system on a GPT disk): the table and
 * every partition on the disk stay; the same three GPT partitions are added
 * in the largest unallocated region, numbered after the last one there.
 */
import { TrowelError } from '../errors.ts';
import { formatBytes } from '../stream/progress.ts';
import { partitionPath } from './partition-name.ts';

export const LAYOUTS = ['auto', 'gpt-uefi', 'gpt-bios', 'mbr', 'keep', 'free'] as const;
export type Layout = (typeof LAYOUTS)[number];

/** GPT partition type GUIDs (UEFI 2.10 §5.3.3; BIOS boot is GRUB's). */
export const GPT_TYPE = {
  bios: '21686148-6449-6E6F-744E-656564454649',
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
} as const;

export const ESP_LABEL = 'TROWEL-ESP';
export const POOL_LABEL = 'trowel';

const MiB = 1024 * 1024;
const BIOS_BOOT_MIB = 1;
const ESP_MIB = 256;
/** The pool must hold at least a small template; btrfs itself needs ~114 MiB. */
export const MIN_POOL_BYTES = 512 * MiB;

export type PartitionRole = 'bios' | 'esp' | 'pool';

export interface PlannedPartition {
  role: PartitionRole;
  number: number;
  /** Device node the kernel will create, e.g. /dev/nvme0n1p3. */
  path: string;
  /** Undefined for the last partition, which takes the rest. */
  sizeBytes: number | undefined;
}

export interface PartitionPlan {
  layout: Exclude<Layout, 'keep'>;
  table: 'gpt' | 'dos';
  disk: string;
  /**
   * Fed to sfdisk on stdin: a whole new table (`sfdisk --wipe always`), or
   * with `append`, partitions added to the table on the disk (`sfdisk --append`).
   */
  script: string;
  /** True for layout free: the disk's table and partitions are kept. */
  append: boolean;
  partitions: PlannedPartition[];
  /** Shortcuts into `partitions`. */
  esp: string;
  pool: string;
}

/** The smallest disk a layout fits on. */
export function minimumDiskBytes(layout: Exclude<Layout, 'keep'>): number {
  // 1 MiB of alignment in front, and GPT's backup table at the end.
  const overhead = 2 * MiB + (layout === 'mbr' ? 0 : BIOS_BOOT_MIB * MiB);
  return overhead + ESP_MIB * MiB + MIN_POOL_BYTES;
}

/** What the planner reads of a disk; layout free also needs its table and partitions. */
export interface PlannedDisk {
  path: string;
  sizeBytes: number;
  partitionTable?: string | undefined;
  partitions?: readonly { number: number; startBytes: number; sizeBytes: number }[];
}

export function planPartitions(disk: PlannedDisk, layout: Layout): PartitionPlan {
  if (layout === 'keep') throw new RangeError('Cannot plan partitions for layout keep: it keeps the partitions on the disk');
  if (layout === 'free') return planFreeSpace(disk);
  const needed = minimumDiskBytes(layout);
  if (disk.sizeBytes < needed) {
    throw new TrowelError('EDISKSMALL', `Cannot partition ${disk.path}: it holds ${formatBytes(disk.sizeBytes)}, and layout ${layout} needs at least ${formatBytes(needed)}`);
  }
  const part = (role: PartitionRole, number: number, mib: number | undefined): PlannedPartition => ({
    role, number, path: partitionPath(disk.path, number), sizeBytes: mib === undefined ? undefined : mib * MiB,
  });
  if (layout === 'mbr') {
    const partitions = [part('esp', 1, ESP_MIB), part('pool', 2, undefined)];
    const script = ['label: dos', `size=${ESP_MIB}MiB, type=ef`, 'type=83, bootable', ''].join('\n');
    return { layout, table: 'dos', disk: disk.path, script, append: false, partitions, esp: partitions[0]!.path, pool: partitions[1]!.path };
  }
  const partitions = [part('bios', 1, BIOS_BOOT_MIB), part('esp', 2, ESP_MIB), part('pool', 3, undefined)];
  const script = [
    'label: gpt',
    `size=${BIOS_BOOT_MIB}MiB, type=${GPT_TYPE.bios}, name="bios"`,
    `size=${ESP_MIB}MiB, type=${GPT_TYPE.esp}, name="esp"`,
    `type=${GPT_TYPE.linux}, name="pool"`,
    '',
  ].join('\n');
  return { layout, table: 'gpt', disk: disk.path, script, append: false, partitions, esp: partitions[1]!.path, pool: partitions[2]!.path };
}

/** An unallocated stretch of a disk, aligned to 1 MiB at both ends. */
export interface FreeRegion {
  startBytes: number;
  sizeBytes: number;
}

/**
 * The unallocated regions of a partitioned disk, largest first. The first
 * MiB (the tables, alignment) and the last MiB (GPT's backup table) are never
 * free; partitions are taken as they are, even when misaligned.
 */
export function freeRegions(disk: PlannedDisk): FreeRegion[] {
  const end = Math.floor((disk.sizeBytes - MiB) / MiB) * MiB;
  const used = [...(disk.partitions ?? [])].sort((a, b) => a.startBytes - b.startBytes);
  const regions: FreeRegion[] = [];
  let cursor = MiB;
  for (const p of [...used, { startBytes: end, sizeBytes: 0 }]) {
    const stop = Math.min(end, Math.floor(p.startBytes / MiB) * MiB);
    if (stop > cursor) regions.push({ startBytes: cursor, sizeBytes: stop - cursor });
    cursor = Math.max(cursor, Math.ceil((p.startBytes + p.sizeBytes) / MiB) * MiB);
  }
  return regions.sort((a, b) => b.sizeBytes - a.sizeBytes || a.startBytes - b.startBytes);
}

/** What layout free needs in one free region: BIOS boot, ESP and the smallest pool. */
export const FREE_SPACE_BYTES = BIOS_BOOT_MIB * MiB + ESP_MIB * MiB + MIN_POOL_BYTES;

/** @private Layout free: BIOS boot + ESP + pool appended in the largest free region. */
function planFreeSpace(disk: PlannedDisk): PartitionPlan {
  if (disk.partitionTable !== 'gpt') {
    const has = disk.partitionTable ? `a ${disk.partitionTable} partition table` : 'no partition table';
    throw new TrowelError('ENOFREESPACE', `Cannot use free space on ${disk.path}: it has ${has}, and layout free adds to a GPT`, {
      hint: disk.partitionTable ? 'use layout auto (erases the disk) or make room with a GPT tool' : 'use layout auto: the whole disk is free',
    });
  }
  const region = freeRegions(disk)[0];
  if (!region || region.sizeBytes < FREE_SPACE_BYTES) {
    throw new TrowelError('ENOFREESPACE', `Cannot use free space on ${disk.path}: the largest free region holds ${formatBytes(region?.sizeBytes ?? 0)}, and trowel needs ${formatBytes(FREE_SPACE_BYTES)}`, {
      hint: 'shrink a partition first, or use layout auto (erases the disk)',
    });
  }
  const first = Math.max(0, ...(disk.partitions ?? []).map((p) => p.number)) + 1;
  const start = region.startBytes / MiB;
  const poolMiB = region.sizeBytes / MiB - BIOS_BOOT_MIB - ESP_MIB;
  const part = (role: PartitionRole, offset: number, mib: number): PlannedPartition => ({
    role, number: first + offset, path: partitionPath(disk.path, first + offset), sizeBytes: mib * MiB,
  });
  const partitions = [part('bios', 0, BIOS_BOOT_MIB), part('esp', 1, ESP_MIB), part('pool', 2, poolMiB)];
  // Explicit starts and sizes: sfdisk would otherwise fill the first gap, not the largest.
  const script = [
    `start=${start}MiB, size=${BIOS_BOOT_MIB}MiB, type=${GPT_TYPE.bios}, name="bios"`,
    `start=${start + BIOS_BOOT_MIB}MiB, size=${ESP_MIB}MiB, type=${GPT_TYPE.esp}, name="esp"`,
    `start=${start + BIOS_BOOT_MIB + ESP_MIB}MiB, size=${poolMiB}MiB, type=${GPT_TYPE.linux}, name="pool"`,
    '',
  ].join('\n');
  return { layout: 'free', table: 'gpt', disk: disk.path, script, append: true, partitions, esp: partitions[1]!.path, pool: partitions[2]!.path };
}
