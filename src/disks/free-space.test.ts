import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { hasFreeSpace, pickDisk } from './pick.ts';
import { FREE_SPACE_BYTES, freeRegions, planPartitions } from './plan.ts';
import type { Disk, Partition } from './types.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function part(number: number, startMiB: number, sizeMiB: number, fs?: string): Partition {
  return {
    name: `vda${number}`, path: `/dev/vda${number}`, number, startBytes: startMiB * MiB, sizeBytes: sizeMiB * MiB,
    partLabel: undefined, partType: undefined, filesystem: fs ? { type: fs, label: undefined, uuid: undefined } : undefined,
  };
}

function disk(partitions: Partition[], options: { table?: string; sizeBytes?: number } = {}): Disk {
  return {
    name: 'vda', path: '/dev/vda', model: undefined, vendor: undefined, serial: undefined, wwid: undefined,
    sizeBytes: options.sizeBytes ?? 4 * GiB, logicalBlockSize: 512, rotational: false, removable: false, readonly: false,
    transport: 'virtio', partitions, partitionTable: 'table' in options ? options.table : 'gpt', filesystem: undefined, probeError: undefined,
  };
}

function refusal(f: () => unknown): TrowelError {
  try {
    f();
  } catch (e) {
    if (e instanceof TrowelError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('freeRegions', () => {
  it('lists the gaps largest first, keeping the first and last MiB out', () => {
    const d = disk([part(1, 1, 100), part(2, 600, 1000)]);
    expect(freeRegions(d)).toEqual([
      { startBytes: 1600 * MiB, sizeBytes: (4095 - 1600) * MiB },
      { startBytes: 101 * MiB, sizeBytes: 499 * MiB },
    ]);
  });

  it('rounds a misaligned partition outwards, so nothing of it is counted free', () => {
    const d = disk([{ ...part(1, 1, 0), startBytes: MiB, sizeBytes: 100 * MiB + 512 }], { sizeBytes: 1 * GiB });
    expect(freeRegions(d)).toEqual([{ startBytes: 102 * MiB, sizeBytes: (1023 - 102) * MiB }]);
  });

  it('finds the whole disk free on an empty table and nothing on a full one', () => {
    expect(freeRegions(disk([]))).toEqual([{ startBytes: MiB, sizeBytes: 4094 * MiB }]);
    expect(freeRegions(disk([part(1, 1, 4094)]))).toEqual([]);
  });
});

describe('planPartitions free', () => {
  it('appends BIOS boot, ESP and pool in the largest gap, numbered after the last partition', () => {
    const plan = planPartitions(disk([part(1, 1, 100, 'vfat'), part(2, 101, 1500, 'ntfs')]), 'free');
    expect(plan.append).toBe(true);
    expect(plan.table).toBe('gpt');
    expect(plan.script).toBe(
      'start=1601MiB, size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"\n' +
      'start=1602MiB, size=256MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"\n' +
      `start=1858MiB, size=${4095 - 1858}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="pool"\n`,
    );
    expect(plan.partitions.map((p) => [p.role, p.number, p.path, p.sizeBytes])).toEqual([
      ['bios', 3, '/dev/vda3', MiB], ['esp', 4, '/dev/vda4', 256 * MiB], ['pool', 5, '/dev/vda5', (4095 - 1858) * MiB],
    ]);
    expect([plan.esp, plan.pool]).toEqual(['/dev/vda4', '/dev/vda5']);
  });

  it('refuses an MBR disk, a disk without a table, and a gap that is too small', () => {
    expect(refusal(() => planPartitions(disk([part(1, 1, 100)], { table: 'dos' }), 'free')).message)
      .toBe('Cannot use free space on /dev/vda: it has a dos partition table, and layout free adds to a GPT');
    const blank = refusal(() => planPartitions(disk([], { table: undefined }), 'free'));
    expect([blank.code, blank.hint]).toEqual(['ENOFREESPACE', 'use layout auto: the whole disk is free']);
    expect(refusal(() => planPartitions(disk([part(1, 1, 3800)]), 'free')).message)
      .toBe('Cannot use free space on /dev/vda: the largest free region holds 294.0 MiB, and trowel needs 769.0 MiB');
    expect(FREE_SPACE_BYTES).toBe(769 * MiB);
  });
});

describe('pickDisk with layout free', () => {
  it('takes a disk holding data without wipe, since nothing on it is erased', () => {
    const d = disk([part(1, 1, 1000, 'ntfs')]);
    expect(pickDisk([d], '/dev/vda', { wipe: false, free: true })).toBe(d);
    expect(hasFreeSpace(d)).toBe(true);
  });

  it('refuses a full disk with the planner\'s reason, and auto skips it', () => {
    const full = disk([part(1, 1, 4094, 'ntfs')]);
    expect(hasFreeSpace(full)).toBe(false);
    expect(refusal(() => pickDisk([full], '/dev/vda', { wipe: false, free: true })).code).toBe('ENOFREESPACE');
    expect(refusal(() => pickDisk([full], 'auto', { wipe: false, free: true })).message)
      .toBe('Cannot choose a disk: none of the 1 qualifies (/dev/vda is without enough free space on a GPT)');
  });
});
