/**
 * How the console shows a disk (pure): one line of identity (device, model,
 * serial, size, type) and one of contents (table, partitions with their
 * filesystems, and the systems those suggest), plus whether trowel may use
 * it at all.
 */
import { trowelPartitions } from '../disks/pick.ts';
import { minimumDiskBytes, POOL_LABEL } from '../disks/plan.ts';
import type { Disk, Filesystem } from '../disks/types.ts';
import { formatBytes } from '../stream/progress.ts';

/** Filesystem types that tell which system a partition belongs to (blkid TYPE names). */
const SYSTEMS: Record<string, string> = {
  ntfs: 'Windows', exfat: 'Windows', refs: 'Windows', bitlocker: 'Windows (BitLocker)',
  ext2: 'Linux', ext3: 'Linux', ext4: 'Linux', xfs: 'Linux', jfs: 'Linux', reiserfs: 'Linux', f2fs: 'Linux', swap: 'Linux',
  LVM2_member: 'Linux (LVM)', linux_raid_member: 'Linux (RAID)', crypto_LUKS: 'encrypted (LUKS)',
  zfs_member: 'ZFS', apfs: 'macOS', hfsplus: 'macOS', ufs: 'BSD',
};

/** Systems the disk seems to hold, e.g. ["Windows", "Linux"], or a trowel pool; empty for a blank disk. */
export function detectSystems(disk: Disk): string[] {
  const found: string[] = [];
  const add = (s: string) => {
    if (!found.includes(s)) found.push(s);
  };
  if (trowelPartitions(disk)) add('trowel pool');
  for (const fs of filesystems(disk)) {
    if (fs.type === 'btrfs' && fs.label === POOL_LABEL) continue;
    const system = fs.type === 'btrfs' ? 'Linux' : SYSTEMS[fs.type];
    if (system) add(system);
  }
  return found;
}

/** "QEMU HARDDISK", "ATA TROWEL SATA DISK" ... or "-". */
export function diskModel(disk: Disk): string {
  return [disk.vendor, disk.model].filter(Boolean).join(' ') || '-';
}

/** "2.00 GiB virtio SSD", "1.0 TiB sata HDD", "64.0 MiB usb removable". */
export function diskKind(disk: Disk): string {
  const flags = [disk.removable && 'removable', disk.readonly && 'read-only'].filter(Boolean);
  return [disk.transport, disk.rotational ? 'HDD' : 'SSD', ...flags].join(' ');
}

/** The partitions as "1 vfat 'EFI' 100 MiB, 2 ntfs 40.0 GiB", or the whole-disk filesystem, or "blank". */
export function diskContents(disk: Disk): string {
  if (disk.probeError !== undefined) return `unreadable: ${disk.probeError}`;
  if (disk.partitions.length > 0) {
    const table = disk.partitionTable ? `${disk.partitionTable}: ` : '';
    return table + disk.partitions.map((p) => `${p.number} ${p.filesystem ? describeFs(p.filesystem) : 'no filesystem'} ${formatBytes(p.sizeBytes)}`).join(', ');
  }
  if (disk.filesystem) return `whole disk ${describeFs(disk.filesystem)}`;
  return disk.partitionTable ? `${disk.partitionTable}, no partitions` : 'blank';
}

/** Why trowel cannot install on the disk at all, or undefined. */
export function unusableReason(disk: Disk): string | undefined {
  if (disk.readonly) return 'it is read-only';
  const needed = minimumDiskBytes('free');
  if (disk.sizeBytes < needed) return `it holds ${formatBytes(disk.sizeBytes)}, less than the ${formatBytes(needed)} trowel needs`;
  return undefined;
}

/** @private */
function filesystems(disk: Disk): Filesystem[] {
  return [disk.filesystem, ...disk.partitions.map((p) => p.filesystem)].filter((f): f is Filesystem => f !== undefined);
}

/** @private */
function describeFs(fs: Filesystem): string {
  return fs.label ? `${fs.type} '${fs.label}'` : fs.type;
}
