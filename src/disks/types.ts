/**
 * What trowel knows about a machine's disks: read from sysfs (discover.ts),
 * optionally completed with the filesystem signatures blkid finds.
 */

/** How the disk is attached, from its sysfs device path. */
export type Transport = 'virtio' | 'sata' | 'nvme' | 'usb' | 'mmc' | 'scsi' | 'loop' | 'unknown';

/** A filesystem (or other) signature found by `blkid -p`. */
export interface Filesystem {
  /** TYPE: ext4, vfat, btrfs, ntfs, swap, crypto_LUKS, ... */
  type: string;
  label: string | undefined;
  uuid: string | undefined;
}

export interface Partition {
  /** Kernel name: vda1, sda1, nvme0n1p1, mmcblk0p1, loop0p1. */
  name: string;
  path: string;
  number: number;
  startBytes: number;
  sizeBytes: number;
  /** The GPT partition name (PARTNAME from sysfs, else blkid's PART_ENTRY_NAME). */
  partLabel: string | undefined;
  /** The partition type (a GPT type GUID in lowercase, or an MBR type like 0xef), when probed. */
  partType: string | undefined;
  /** Undefined when not probed (no blkid reader) or nothing was found. */
  filesystem: Filesystem | undefined;
}

export interface Disk {
  /** Kernel name: vda, sda, nvme0n1, mmcblk0. */
  name: string;
  /** /dev/<name> */
  path: string;
  model: string | undefined;
  vendor: string | undefined;
  serial: string | undefined;
  wwid: string | undefined;
  sizeBytes: number;
  logicalBlockSize: number;
  rotational: boolean;
  removable: boolean;
  readonly: boolean;
  transport: Transport;
  partitions: Partition[];
  /** The partition table type blkid saw (gpt, dos), if probed. */
  partitionTable: string | undefined;
  /** A filesystem directly on the whole disk (no partition table), if probed. */
  filesystem: Filesystem | undefined;
  /** Why probing the disk failed: its contents are unknown, so it counts as holding data. */
  probeError: string | undefined;
}
