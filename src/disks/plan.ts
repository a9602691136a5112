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
 */
import { TrowelError } from '../errors.ts';
import { formatBytes } from '../stream/progress.ts';
import { partitionPath } from './partition-name.ts';

export const LAYOUTS = ['auto', 'gpt-uefi', 'gpt-bios', 'mbr', 'keep'] as const;
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
  /** Fed to `sfdisk --wipe always <disk>` on stdin. */
  script: string;
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

export function planPartitions(disk: { path: string; sizeBytes: number }, layout: Layout): PartitionPlan {
  if (layout === 'keep') throw new RangeError('Cannot plan partitions for layout keep: it keeps the partitions on the disk');
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
    return { layout, table: 'dos', disk: disk.path, script, partitions, esp: partitions[0]!.path, pool: partitions[1]!.path };
  }
  const partitions = [part('bios', 1, BIOS_BOOT_MIB), part('esp', 2, ESP_MIB), part('pool', 3, undefined)];
  const script = [
    'label: gpt',
    `size=${BIOS_BOOT_MIB}MiB, type=${GPT_TYPE.bios}, name="bios"`,
    `size=${ESP_MIB}MiB, type=${GPT_TYPE.esp}, name="esp"`,
    `type=${GPT_TYPE.linux}, name="pool"`,
    '',
  ].join('\n');
  return { layout, table: 'gpt', disk: disk.path, script, partitions, esp: partitions[1]!.path, pool: partitions[2]!.path };
}
