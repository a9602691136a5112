/**
 * The layouts the console offers for a disk and a preview of the partition
 * table each leaves (pure). The preview comes from the same planner the
 * pipeline runs (disks/plan.ts), so what is shown is what gets written.
 */
import { describeContents, hasFreeSpace, trowelPartitions } from '../disks/pick.ts';
import { ESP_LABEL, minimumDiskBytes, planPartitions, POOL_LABEL, type PartitionRole } from '../disks/plan.ts';
import type { Disk } from '../disks/types.ts';
import { describeError } from '../errors.ts';
import { formatBytes } from '../stream/progress.ts';

export const CONSOLE_LAYOUTS = ['auto', 'keep', 'free'] as const;
export type ConsoleLayout = (typeof CONSOLE_LAYOUTS)[number];

export interface LayoutOption {
  layout: ConsoleLayout;
  title: string;
  /** Undefined when the layout fits this disk; else why not. */
  unavailable: string | undefined;
  /** It erases what the disk holds: the confirmation asks for the disk's name. */
  destructive: boolean;
}

const MiB = 2 ** 20;

export function layoutOptions(disk: Disk): LayoutOption[] {
  const small = disk.sizeBytes < minimumDiskBytes('auto') ? `the disk is smaller than ${formatBytes(minimumDiskBytes('auto'))}` : undefined;
  return [
    { layout: 'auto', title: 'Whole disk: new GPT for UEFI and BIOS (erases the disk)', unavailable: small, destructive: true },
    {
      layout: 'keep', title: 'Keep the trowel pool: update it, @home and @persistent kept',
      unavailable: trowelPartitions(disk) ? undefined : 'the disk holds no trowel pool', destructive: false,
    },
    {
      layout: 'free', title: 'Use free space: add trowel beside what is on the disk',
      unavailable: hasFreeSpace(disk) ? undefined : disk.partitionTable === 'gpt' ? 'not enough free space' : 'needs a GPT disk with free space',
      destructive: false,
    },
  ];
}

/** One preview row: number, device, size, what it is, what happens to it. */
export type PreviewRow = [number: string, device: string, size: string, what: string, fate: string];

/** The partition table after `layout` is applied, and a one-line summary of what happens. */
export function layoutPreview(disk: Disk, layout: ConsoleLayout, onDisk: readonly string[] = []): { summary: string; rows: PreviewRow[] } {
  const header: PreviewRow = ['#', 'device', 'size', 'contents', 'change'];
  if (layout === 'keep') {
    const found = trowelPartitions(disk);
    if (!found) return { summary: `${disk.path} holds no trowel pool to keep`, rows: [] };
    const rows = disk.partitions.map((p): PreviewRow => {
      const fate = p === found.pool ? 'receive the template, @home @persistent kept' : p === found.esp ? 'boot files updated' : 'kept';
      return [String(p.number), p.path, formatBytes(p.sizeBytes), p.filesystem ? fsText(p.filesystem) : 'no filesystem', fate];
    });
    const versions = onDisk.length ? `; on it: ${onDisk.join(', ')}` : '';
    return { summary: `Nothing is erased; the new version goes into the pool on ${found.pool.path}${versions}`, rows: [header, ...rows] };
  }
  let plan;
  try {
    plan = planPartitions(disk, layout);
  } catch (e) {
    return { summary: describeError(e), rows: [] };
  }
  const lastBytes = disk.sizeBytes - 2 * MiB - plan.partitions.reduce((n, p) => n + (p.sizeBytes ?? 0), 0);
  const planned = plan.partitions.map((p): PreviewRow => [
    String(p.number), p.path, p.sizeBytes === undefined ? `~${formatBytes(lastBytes)}` : formatBytes(p.sizeBytes), ROLES[p.role], 'new',
  ]);
  if (layout === 'free') {
    const kept = disk.partitions.map((p): PreviewRow => [String(p.number), p.path, formatBytes(p.sizeBytes), p.filesystem ? fsText(p.filesystem) : 'no filesystem', 'kept']);
    return { summary: `Nothing is erased; ${plan.partitions.length} partitions are added to the GPT of ${disk.path}`, rows: [header, ...kept, ...planned] };
  }
  const erased = describeContents(disk);
  return { summary: `New ${plan.table.toUpperCase()} on ${disk.path}; ${erased ? `erases ${erased}` : 'the disk is blank'}`, rows: [header, ...planned] };
}

/** @private */
const ROLES: Record<PartitionRole, string> = {
  bios: 'BIOS boot (GRUB)',
  esp: `EFI system, vfat '${ESP_LABEL}'`,
  pool: `btrfs '${POOL_LABEL}' (templates, @root, @home)`,
};

/** @private */
function fsText(fs: { type: string; label: string | undefined }): string {
  return fs.label ? `${fs.type} '${fs.label}'` : fs.type;
}

