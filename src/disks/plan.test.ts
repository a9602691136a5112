import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { minimumDiskBytes, planPartitions } from './plan.ts';

const GiB = 2 ** 30;

describe('planPartitions', () => {
  it('plans GPT with BIOS boot, ESP and pool for auto, naming NVMe partitions with "p"', () => {
    const plan = planPartitions({ path: '/dev/nvme0n1', sizeBytes: 4 * GiB }, 'auto');
    expect(plan.script).toBe(
      'label: gpt\n' +
      'size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"\n' +
      'size=256MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"\n' +
      'type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="pool"\n',
    );
    expect(plan.table).toBe('gpt');
    expect(plan.partitions).toEqual([
      { role: 'bios', number: 1, path: '/dev/nvme0n1p1', sizeBytes: 2 ** 20 },
      { role: 'esp', number: 2, path: '/dev/nvme0n1p2', sizeBytes: 256 * 2 ** 20 },
      { role: 'pool', number: 3, path: '/dev/nvme0n1p3', sizeBytes: undefined },
    ]);
    expect([plan.esp, plan.pool]).toEqual(['/dev/nvme0n1p2', '/dev/nvme0n1p3']);
  });

  it('plans the same table for gpt-uefi and gpt-bios (both firmware types boot it)', () => {
    const auto = planPartitions({ path: '/dev/vda', sizeBytes: 4 * GiB }, 'auto');
    for (const layout of ['gpt-uefi', 'gpt-bios'] as const) {
      const plan = planPartitions({ path: '/dev/vda', sizeBytes: 4 * GiB }, layout);
      expect(plan.script).toBe(auto.script);
      expect(plan.layout).toBe(layout);
      expect(plan.pool).toBe('/dev/vda3');
    }
  });

  it('plans an MBR with an ESP and an active pool for layout mbr', () => {
    const plan = planPartitions({ path: '/dev/sda', sizeBytes: 4 * GiB }, 'mbr');
    expect(plan.script).toBe('label: dos\nsize=256MiB, type=ef\ntype=83, bootable\n');
    expect(plan.table).toBe('dos');
    expect(plan.partitions.map((p) => [p.role, p.path])).toEqual([['esp', '/dev/sda1'], ['pool', '/dev/sda2']]);
  });

  it('refuses a disk smaller than the layout needs', () => {
    expect(minimumDiskBytes('auto')).toBe((2 + 1 + 256 + 512) * 2 ** 20);
    expect(minimumDiskBytes('mbr')).toBe((2 + 256 + 512) * 2 ** 20);
    let error: unknown;
    try {
      planPartitions({ path: '/dev/mmcblk0', sizeBytes: 64 * 2 ** 20 }, 'auto');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrowelError);
    expect((error as TrowelError).code).toBe('EDISKSMALL');
    expect((error as TrowelError).message).toBe('Cannot partition /dev/mmcblk0: it holds 64.0 MiB, and layout auto needs at least 771.0 MiB');
  });

  it('has nothing to plan for keep', () => {
    expect(() => planPartitions({ path: '/dev/vda', sizeBytes: 4 * GiB }, 'keep')).toThrow(RangeError);
  });
});
