/**
 * Disk discovery from sysfs: every whole disk under <sysfsRoot>/block with its
 * model, serial, size, rotational/removable/read-only flags, how it is
 * attached, and its partitions; with a blkid reader, also the filesystems on
 * them. Reads files only, so it runs as well over a recorded tree
 * (test/fixtures/sysfs) as over /sys. Attribute files are the kernel's ABI
 * (Documentation/ABI/stable/sysfs-block); sizes are always in 512-byte units.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CommandError } from '../sys/run.ts';
import type { BlkidReader } from './blkid.ts';
import type { Disk, Partition, Transport } from './types.ts';

export interface DiscoverOptions {
  /** Default /sys. */
  sysfsRoot?: string;
  /** Where the device nodes are; default /dev. */
  devRoot?: string;
  /** Kernel names to list although their kind is skipped (e.g. "loop3" for a test disk). */
  include?: readonly string[];
  /** Probes disks and partitions for filesystems (blkid.ts); without it they stay undefined. */
  probe?: BlkidReader;
}

const SECTOR = 512;

/**
 * Kinds that are never an install target: loop, RAM and compressed-RAM
 * disks, optical drives, device-mapper and md arrays (they sit on disks we
 * list), network block devices, floppies, and the eMMC hardware boot/RPMB
 * areas (which the kernel lists as separate disks).
 */
const SKIPPED = /^(loop|ram|zram|sr|dm-|md|nbd|fd|mtdblock)\d*|^mmcblk\d+(boot\d+|rpmb)$/;

export async function discoverDisks(options: DiscoverOptions = {}): Promise<Disk[]> {
  const sysfs = options.sysfsRoot ?? '/sys';
  const include = new Set(options.include ?? []);
  const names = (await readdir(join(sysfs, 'block'))).filter((n) => include.has(n) || !SKIPPED.test(n));
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const disks: Disk[] = [];
  for (const name of names) {
    const disk = await readDisk(sysfs, name, options.devRoot ?? '/dev');
    // Hidden disks are NVMe multipath legs (the visible head is listed); an
    // empty size is a drive without a medium. Neither can be written.
    if (disk === undefined || (disk.sizeBytes === 0 && !include.has(name))) continue;
    if (options.probe) await probeDisk(disk, options.probe);
    disks.push(disk);
  }
  return disks;
}

/** @private */
async function readDisk(sysfs: string, name: string, devRoot: string): Promise<Disk | undefined> {
  const link = join(sysfs, 'block', name);
  // /sys/block/<name> links into /sys/devices; the path tells the bus.
  const dir = resolve(dirname(link), await readlink(link).catch(() => name));
  if ((await attr(join(dir, 'hidden'))) === '1') return undefined;
  const devicePath = dir.slice(resolve(sysfs).length);
  const device = join(dir, 'device');
  const wwid = (await attr(join(dir, 'wwid'))) ?? (await attr(join(device, 'wwid')));
  const transport = transportOf(name, devicePath);
  return {
    name,
    path: join(devRoot, name),
    model: (await attr(join(device, 'model'))) ?? (await attr(join(device, 'name'))),
    // virtio and NVMe devices carry a PCI vendor id there, not a name.
    vendor: ['sata', 'scsi', 'usb'].includes(transport) ? await attr(join(device, 'vendor')) : undefined,
    serial: await serialOf(resolve(sysfs), dir, wwid, transport),
    wwid,
    sizeBytes: Number((await attr(join(dir, 'size'))) ?? 0) * SECTOR,
    logicalBlockSize: Number((await attr(join(dir, 'queue/logical_block_size'))) ?? SECTOR),
    rotational: (await attr(join(dir, 'queue/rotational'))) === '1',
    removable: (await attr(join(dir, 'removable'))) === '1',
    readonly: (await attr(join(dir, 'ro'))) === '1',
    transport,
    partitions: await readPartitions(dir, devRoot),
    partitionTable: undefined,
    filesystem: undefined,
    probeError: undefined,
  };
}

/** Which bus a disk hangs off, from its name and its path under /sys/devices (pure; exported for tests). */
export function transportOf(name: string, devicePath: string): Transport {
  if (name.startsWith('nvme') || devicePath.includes('/nvme/')) return 'nvme';
  if (name.startsWith('mmcblk') || devicePath.includes('/mmc_host/')) return 'mmc';
  if (/\/usb\d+\//.test(devicePath)) return 'usb';
  if (name.startsWith('vd') || /\/virtio\d+\//.test(devicePath)) return 'virtio';
  if (/\/ata\d+\//.test(devicePath)) return 'sata';
  if (name.startsWith('loop')) return 'loop';
  if (name.startsWith('sd')) return 'scsi';
  return 'unknown';
}

/**
 * @private The serial as the vendor printed it: virtio-blk has its own
 * `serial`, NVMe controllers and MMC cards have one on the device, a USB
 * disk's is on the USB device further up; for SATA/SCSI it is the last field
 * of a T10 wwid ("t10." + vendor(8) + model(40) + serial, SAT-4 / SPC-4 VPD 0x83).
 */
async function serialOf(sysfs: string, dir: string, wwid: string | undefined, transport: Transport): Promise<string | undefined> {
  const own = (await attr(join(dir, 'serial'))) ?? (await attr(join(dir, 'device/serial')));
  if (own) return own;
  if (transport === 'usb') {
    for (let d = dirname(dir); d.startsWith(sysfs + '/'); d = dirname(d)) {
      if ((await attr(join(d, 'idVendor'))) !== undefined) return attr(join(d, 'serial'));
    }
  }
  if (wwid?.startsWith('t10.') && wwid.length > 52) return wwid.slice(52).trim() || undefined;
  return undefined;
}

/** @private Partitions are the subdirectories holding a `partition` file, in number order. */
async function readPartitions(dir: string, devRoot: string): Promise<Partition[]> {
  const partitions: Partition[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const p = join(dir, entry.name);
    const number = await attr(join(p, 'partition'));
    if (number === undefined) continue;
    const uevent = (await attr(join(p, 'uevent'))) ?? '';
    partitions.push({
      name: entry.name,
      path: join(devRoot, entry.name),
      number: Number(number),
      startBytes: Number((await attr(join(p, 'start'))) ?? 0) * SECTOR,
      sizeBytes: Number((await attr(join(p, 'size'))) ?? 0) * SECTOR,
      partLabel: /^PARTNAME=(.*)$/m.exec(uevent)?.[1],
      partType: undefined,
      filesystem: undefined,
    });
  }
  return partitions.sort((a, b) => a.number - b.number);
}

/** @private */
async function probeDisk(disk: Disk, probe: BlkidReader): Promise<void> {
  try {
    const whole = await probe(disk.path);
    disk.partitionTable = whole.partitionTable;
    // A partition table is itself reported as no TYPE; a TYPE on the whole disk is a filesystem on it.
    disk.filesystem = whole.filesystem;
    for (const partition of disk.partitions) {
      const found = await probe(partition.path);
      partition.filesystem = found.filesystem;
      // Partitions the kernel learnt of through BLKPG (partx) carry no PARTNAME in sysfs.
      partition.partLabel ??= found.partEntry?.name;
      partition.partType = found.partEntry?.type;
    }
  } catch (e) {
    // One unreadable disk must not hide the others; the picker treats it as holding data.
    disk.probeError = e instanceof CommandError ? e.stderr.trim().split('\n').at(-1) || e.message : (e as Error).message;
  }
}

/**
 * @private One attribute, trimmed; undefined when absent, unreadable, empty
 * or binary (a VPD page that is not text, a wwid of NULs).
 */
async function attr(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch {
    return undefined;
  }
  const value = text.trim();
  return value === '' || /[\x00-\x08\x0e-\x1f\x7f-\xff]/.test(value) ? undefined : value;
}
