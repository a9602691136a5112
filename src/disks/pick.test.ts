import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { parseBlkidExport } from './blkid.ts';
import { discoverDisks } from './discover.ts';
import { describeContents, pickDisk, trowelPartitions } from './pick.ts';
import type { Disk } from './types.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/sysfs');
const MiB = 2 ** 20;

let all: Disk[];
const byName = (...names: string[]) => all.filter((d) => names.includes(d.name));
const disk = (name: string) => all.find((d) => d.name === name)!;

/** Catches the TrowelError a call throws, to check code, message and hint together. */
function refusal(f: () => unknown): { code: string; message: string; hint: string | undefined } {
  try {
    f();
  } catch (e) {
    if (e instanceof TrowelError) return { code: e.code, message: e.message, hint: e.hint };
    throw e;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  all = await discoverDisks({
    sysfsRoot: join(FIXTURES, 'q35-mixed'),
    include: ['sr0'],
    probe: async (path) => parseBlkidExport(await readFile(join(FIXTURES, 'q35-mixed.blkid', path.slice(5)), 'utf8').catch(() => '')),
  });
});

describe('pickDisk auto', () => {
  it('takes the single non-removable, writable disk that is big enough', () => {
    expect(pickDisk(byName('sdb', 'sr0', 'mmcblk0', 'nvme0n1'), 'auto', { wipe: true, minBytes: 100 * MiB }).name).toBe('nvme0n1');
  });

  it('refuses when several disks qualify, listing them', () => {
    expect(refusal(() => pickDisk(all, 'auto', { wipe: true, minBytes: 100 * MiB }))).toEqual({
      code: 'EAMBIGUOUS',
      message: 'Cannot choose a disk: 3 qualify: /dev/nvme0n1 (512.0 MiB nvme, QEMU NVMe Ctrl, serial NVME-0001); ' +
        '/dev/sda (128.0 MiB sata, TROWEL SATA DISK, serial SATA-0001); /dev/vda (256.0 MiB virtio, serial VIRTIO-0001)',
      hint: 'name one with trowel.disk=/dev/<name> or trowel.disk=<serial>',
    });
  });

  it('refuses when none qualifies, saying why for each disk', () => {
    expect(refusal(() => pickDisk(byName('sdb', 'sr0', 'mmcblk0'), 'auto', { wipe: true, minBytes: 100 * MiB }))).toEqual({
      code: 'ENODISK',
      message: 'Cannot choose a disk: none of the 3 qualifies (/dev/mmcblk0 is smaller than 100.0 MiB, /dev/sdb is removable, /dev/sr0 is removable)',
      hint: 'name one with trowel.disk=/dev/<name> or trowel.disk=<serial>',
    });
  });

  it('refuses a machine without disks with a hint about drivers', () => {
    const r = refusal(() => pickDisk([], 'auto', { wipe: true }));
    expect(r.code).toBe('ENODISK');
    expect(r.message).toBe('Cannot choose a disk: this machine has no disks');
    expect(r.hint).toMatch(/virtio_blk, ahci, nvme/);
  });

  it('still refuses the single candidate when it holds data and wiping is not allowed', () => {
    expect(refusal(() => pickDisk(byName('vda', 'sdb'), 'auto', { wipe: false, minBytes: 100 * MiB }))).toEqual({
      code: 'EDISKINUSE',
      message: "Cannot use /dev/vda: it holds 2 partitions (ext4 'data', swap 'swap') and the plan does not allow wiping",
      hint: 'set wipe: true in the plan or trowel.wipe=1',
    });
  });

  it('uses the default minimum (what the GPT layout needs) when none is given', () => {
    const r = refusal(() => pickDisk(byName('nvme0n1'), 'auto', { wipe: true }));
    expect(r).toEqual({ code: 'ENODISK', message: 'Cannot choose a disk: none of the 1 qualifies (/dev/nvme0n1 is smaller than 771.0 MiB)', hint: expect.any(String) });
  });
});

describe('pickDisk by path or serial', () => {
  it('finds a disk by its node, its serial or its wwid', () => {
    expect(pickDisk(all, '/dev/nvme0n1', { wipe: true, minBytes: 100 * MiB }).name).toBe('nvme0n1');
    expect(pickDisk(all, 'SATA-0001', { wipe: true, minBytes: 100 * MiB }).name).toBe('sda');
    expect(pickDisk(all, 'nvme.1b36-4e564d452d30303031-51454d55204e564d65204374726c-00000001', { wipe: true, minBytes: 100 * MiB }).name).toBe('nvme0n1');
  });

  it('accepts a removable disk when it is named', () => {
    expect(pickDisk(all, 'USB-0001', { wipe: false, minBytes: 32 * MiB }).path).toBe('/dev/sdb');
  });

  it('refuses a disk with partitions, naming their filesystems, and one with a filesystem on the whole disk', () => {
    expect(refusal(() => pickDisk(all, '/dev/vda', { wipe: false, minBytes: 100 * MiB })).message)
      .toBe("Cannot use /dev/vda: it holds 2 partitions (ext4 'data', swap 'swap') and the plan does not allow wiping");
    expect(refusal(() => pickDisk(all, '/dev/sda', { wipe: false, minBytes: 100 * MiB })).message)
      .toBe("Cannot use /dev/sda: it holds a vfat 'MY DISK' filesystem and the plan does not allow wiping");
    expect(refusal(() => pickDisk(all, '/dev/nvme0n1', { wipe: false, minBytes: 100 * MiB })).message)
      .toBe('Cannot use /dev/nvme0n1: it holds 1 partition (unformatted) and the plan does not allow wiping');
  });

  it('allows the same disks when wiping is allowed', () => {
    expect(pickDisk(all, '/dev/vda', { wipe: true, minBytes: 100 * MiB }).name).toBe('vda');
    expect(pickDisk(all, '/dev/sda', { wipe: true, minBytes: 100 * MiB }).name).toBe('sda');
  });

  it('refuses a read-only disk, a small one, a partition and an unknown name', () => {
    expect(refusal(() => pickDisk(all, '/dev/sr0', { wipe: true })).code).toBe('EDISKREADONLY');
    expect(refusal(() => pickDisk(all, '/dev/sda', { wipe: true }))).toEqual({
      code: 'EDISKSMALL', message: 'Cannot use /dev/sda: it holds 128.0 MiB, less than the 771.0 MiB trowel needs', hint: undefined,
    });
    expect(refusal(() => pickDisk(all, '/dev/nvme0n1p1', { wipe: true }))).toEqual({
      code: 'ENODISK', message: 'Cannot use /dev/nvme0n1p1: it is a partition of /dev/nvme0n1, not a disk', hint: 'use trowel.disk=/dev/nvme0n1',
    });
    const unknown = refusal(() => pickDisk(byName('vda'), 'NOPE-1', { wipe: true }));
    expect(unknown.code).toBe('ENODISK');
    expect(unknown.message).toBe('Cannot find disk NOPE-1: the disks are /dev/vda (256.0 MiB virtio, serial VIRTIO-0001)');
  });
});

describe('pickDisk with layout keep', () => {
  /** vda as it looks after an earlier install: the GPT layout with its ESP and pool. */
  const installed = (): Disk => ({
    ...disk('vda'),
    partitions: [
      { ...disk('vda').partitions[0]!, number: 2, name: 'vda2', path: '/dev/vda2', filesystem: { type: 'vfat', label: 'TROWEL-ESP', uuid: 'A1B2-C3D4' } },
      { ...disk('vda').partitions[1]!, number: 3, name: 'vda3', path: '/dev/vda3', filesystem: { type: 'btrfs', label: 'trowel', uuid: '5b0f3a70-8a55-4b8e-a0a8-3f6c1b0d2e11' } },
    ],
  });

  it('takes a disk holding a trowel pool without wipe, and finds its pool and ESP', () => {
    const d = pickDisk([installed(), disk('sdb')], 'auto', { wipe: false, keep: true, minBytes: 100 * MiB });
    expect(d.name).toBe('vda');
    expect(trowelPartitions(d)).toMatchObject({ pool: { path: '/dev/vda3' }, esp: { path: '/dev/vda2' } });
  });

  it('passes over disks without a pool in auto, and refuses a named one', () => {
    expect(pickDisk([installed(), disk('nvme0n1')], 'auto', { wipe: false, keep: true, minBytes: 100 * MiB }).name).toBe('vda');
    expect(refusal(() => pickDisk(all, '/dev/vda', { wipe: true, keep: true, minBytes: 100 * MiB }))).toEqual({
      code: 'ENOPOOL',
      message: 'Cannot keep the partitions of /dev/vda: it holds no trowel pool (a btrfs filesystem labelled "trowel")',
      hint: 'use trowel.layout=auto (with wipe) to partition it',
    });
  });
});

describe('describeContents', () => {
  it('says nothing for a blank disk or an empty partition table', () => {
    expect(describeContents({ ...disk('sdb'), partitionTable: 'gpt' })).toBeUndefined();
  });
  it('shows a filesystem without a label by its type alone', () => {
    const d = { ...disk('nvme0n1') };
    d.partitions = [{ ...d.partitions[0]!, filesystem: { type: 'ntfs', label: undefined, uuid: undefined } }];
    expect(describeContents(d)).toBe('1 partition (ntfs)');
  });
});

describe('pickDisk and unreadable disks', () => {
  it('counts a disk it could not probe as holding data', () => {
    const d = { ...disk('sdb'), probeError: 'blkid: error: /dev/sdb: Operation not permitted' };
    expect(refusal(() => pickDisk([d], '/dev/sdb', { wipe: false, minBytes: MiB })).message)
      .toBe('Cannot use /dev/sdb: it holds contents trowel cannot read (blkid: error: /dev/sdb: Operation not permitted) and the plan does not allow wiping');
  });
});
