import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBlkidExport, type BlkidReader } from './blkid.ts';
import { discoverDisks, transportOf } from './discover.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/sysfs');
const SYSFS = join(FIXTURES, 'q35-mixed');

/** blkid answers recorded from real filesystems (test/fixtures/sysfs/q35-mixed.blkid); blank devices have none. */
const recordedBlkid: BlkidReader = async (path) => {
  const text = await readFile(join(FIXTURES, 'q35-mixed.blkid', path.replace('/dev/', '')), 'utf8').catch(() => '');
  return parseBlkidExport(text);
};

describe('discoverDisks over a sysfs tree recorded from QEMU (virtio, SATA, NVMe, USB, SD, CD, loop, RAM)', () => {
  it('lists the whole disks in natural order and skips loop, RAM and optical drives', async () => {
    const disks = await discoverDisks({ sysfsRoot: SYSFS });
    expect(disks.map((d) => d.name)).toEqual(['mmcblk0', 'nvme0n1', 'sda', 'sdb', 'vda']);
  });

  it('reads model, serial, size, flags and transport of each kind', async () => {
    const disks = await discoverDisks({ sysfsRoot: SYSFS, devRoot: '/dev' });
    const summary = disks.map(({ name, path, model, vendor, serial, sizeBytes, rotational, removable, readonly, transport }) => ({
      name, path, model, vendor, serial, sizeBytes, rotational, removable, readonly, transport,
    }));
    expect(summary).toEqual([
      { name: 'mmcblk0', path: '/dev/mmcblk0', model: 'QEMU!', vendor: undefined, serial: '0xdeadbeef', sizeBytes: 64 * 2 ** 20, rotational: false, removable: false, readonly: false, transport: 'mmc' },
      { name: 'nvme0n1', path: '/dev/nvme0n1', model: 'QEMU NVMe Ctrl', vendor: undefined, serial: 'NVME-0001', sizeBytes: 512 * 2 ** 20, rotational: false, removable: false, readonly: false, transport: 'nvme' },
      { name: 'sda', path: '/dev/sda', model: 'TROWEL SATA DISK', vendor: 'ATA', serial: 'SATA-0001', sizeBytes: 128 * 2 ** 20, rotational: true, removable: false, readonly: false, transport: 'sata' },
      { name: 'sdb', path: '/dev/sdb', model: 'QEMU HARDDISK', vendor: 'QEMU', serial: 'USB-0001', sizeBytes: 64 * 2 ** 20, rotational: true, removable: true, readonly: false, transport: 'usb' },
      { name: 'vda', path: '/dev/vda', model: undefined, vendor: undefined, serial: 'VIRTIO-0001', sizeBytes: 256 * 2 ** 20, rotational: true, removable: false, readonly: false, transport: 'virtio' },
    ]);
  });

  it('names partitions the way the kernel does (vda1, nvme0n1p1, mmcblk0p1) with offsets, sizes and GPT names', async () => {
    const disks = await discoverDisks({ sysfsRoot: SYSFS, devRoot: '/target/dev' });
    const parts = Object.fromEntries(disks.map((d) => [d.name, d.partitions.map(({ name, path, number, startBytes, sizeBytes, partLabel }) => ({ name, path, number, startBytes, sizeBytes, partLabel }))]));
    expect(parts).toEqual({
      mmcblk0: [{ name: 'mmcblk0p1', path: '/target/dev/mmcblk0p1', number: 1, startBytes: 2048 * 512, sizeBytes: 129024 * 512, partLabel: undefined }],
      nvme0n1: [{ name: 'nvme0n1p1', path: '/target/dev/nvme0n1p1', number: 1, startBytes: 2048 * 512, sizeBytes: 1044480 * 512, partLabel: 'nvme-data' }],
      sda: [],
      sdb: [],
      vda: [
        { name: 'vda1', path: '/target/dev/vda1', number: 1, startBytes: 2048 * 512, sizeBytes: 131072 * 512, partLabel: 'data' },
        { name: 'vda2', path: '/target/dev/vda2', number: 2, startBytes: 133120 * 512, sizeBytes: 389120 * 512, partLabel: 'swap' },
      ],
    });
  });

  it('keeps the wwid, and takes a SATA serial from the T10 wwid when the disk has no serial file', async () => {
    const disks = await discoverDisks({ sysfsRoot: SYSFS });
    const sda = disks.find((d) => d.name === 'sda')!;
    expect(sda.wwid).toBe('t10.ATA     TROWEL SATA DISK                        SATA-0001');
    expect(disks.find((d) => d.name === 'nvme0n1')!.wwid).toBe('nvme.1b36-4e564d452d30303031-51454d55204e564d65204374726c-00000001');
    expect(disks.find((d) => d.name === 'sdb')!.wwid).toBeUndefined();
  });

  it('lists a skipped kind when asked by name, and then even an empty one', async () => {
    const disks = await discoverDisks({ sysfsRoot: SYSFS, include: ['loop0', 'sr0'] });
    expect(disks.map((d) => [d.name, d.transport, d.sizeBytes, d.readonly, d.removable])).toEqual([
      ['loop0', 'loop', 0, false, false],
      ['mmcblk0', 'mmc', 64 * 2 ** 20, false, false],
      ['nvme0n1', 'nvme', 512 * 2 ** 20, false, false],
      ['sda', 'sata', 128 * 2 ** 20, false, false],
      ['sdb', 'usb', 64 * 2 ** 20, false, true],
      ['sr0', 'sata', 2097151 * 512, true, true],
      ['vda', 'virtio', 256 * 2 ** 20, false, false],
    ]);
  });

  it('adds partition tables and filesystems when given a blkid reader', async () => {
    const disks = await discoverDisks({ sysfsRoot: SYSFS, probe: recordedBlkid });
    const vda = disks.find((d) => d.name === 'vda')!;
    expect(vda.partitionTable).toBe('gpt');
    expect(vda.filesystem).toBeUndefined();
    expect(vda.partitions.map((p) => p.filesystem)).toEqual([
      { type: 'ext4', label: 'data', uuid: '06ba0424-aaa8-4cbc-a91e-8bde892a71e9' },
      { type: 'swap', label: 'swap', uuid: 'ef1a1a28-1274-4f48-bdb0-657dae1a4b94' },
    ]);
    expect(vda.partitions.map((p) => [p.partLabel, p.partType])).toEqual([
      ['data', '0fc63daf-8483-4772-8e79-3d69d8477de4'],
      ['swap', '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f'],
    ]);
    const sda = disks.find((d) => d.name === 'sda')!;
    expect(sda.partitionTable).toBeUndefined();
    expect(sda.filesystem).toEqual({ type: 'vfat', label: 'MY DISK', uuid: '967A-533C' });
    expect(disks.find((d) => d.name === 'nvme0n1')!.partitions[0]!.filesystem).toBeUndefined();
  });

  it('fails with the path when the sysfs root has no block directory', async () => {
    await expect(discoverDisks({ sysfsRoot: join(FIXTURES, 'missing') })).rejects.toThrow(/missing\/block/);
  });
});

describe('transportOf', () => {
  it('tells virtio-scsi and plain SCSI disks apart from SATA by the path', () => {
    expect(transportOf('sda', '/devices/pci0000:00/0000:00:05.0/virtio2/host2/target2:0:0/2:0:0:0/block/sda')).toBe('virtio');
    expect(transportOf('sdc', '/devices/pci0000:00/0000:00:07.0/host3/target3:0:1/3:0:1:0/block/sdc')).toBe('scsi');
    expect(transportOf('sda', '/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda')).toBe('sata');
    expect(transportOf('ram0', '/devices/virtual/block/ram0')).toBe('unknown');
  });
});

describe('discoverDisks with a failing probe', () => {
  it('keeps the disk and records why it could not be read', async () => {
    const { CommandError } = await import('../sys/run.ts');
    const disks = await discoverDisks({
      sysfsRoot: SYSFS,
      probe: async (path) => {
        if (path === '/dev/sda') throw new CommandError('blkid -p -o export /dev/sda', 2, null, 'blkid: error: /dev/sda: Operation not permitted\n');
        return parseBlkidExport('');
      },
    });
    expect(disks.find((d) => d.name === 'sda')!.probeError).toBe('blkid: error: /dev/sda: Operation not permitted');
    expect(disks.find((d) => d.name === 'vda')!.probeError).toBeUndefined();
  });
});
