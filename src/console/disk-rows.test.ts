import { describe, expect, it } from 'vitest';
import { detectSystems, diskContents, diskKind, unusableReason } from './disk-rows.ts';
import { disk, partition, sampleDisks } from './test-fixtures.ts';

describe('disk rows', () => {
  it('names the systems the filesystems suggest, and a trowel pool', () => {
    const [blank, windows, pool] = sampleDisks();
    expect(detectSystems(blank!)).toEqual([]);
    expect(detectSystems(windows!)).toEqual(['Windows']);
    expect(detectSystems(pool!)).toEqual(['trowel pool']);
    const mixed = disk('sda', { partitions: [partition('sda', 1, 1, 10, { type: 'ntfs' }), partition('sda', 2, 11, 10, { type: 'ext4' }), partition('sda', 3, 21, 10, { type: 'crypto_LUKS' })] });
    expect(detectSystems(mixed)).toEqual(['Windows', 'Linux', 'encrypted (LUKS)']);
  });

  it('lists partitions with filesystems and sizes, a whole-disk filesystem, or blank', () => {
    expect(diskContents(sampleDisks()[1]!)).toBe("gpt: 1 vfat 100.0 MiB, 2 ntfs 'Windows' 1000.0 MiB");
    expect(diskContents(disk('sdb', { filesystem: { type: 'vfat', label: 'USB', uuid: undefined } }))).toBe("whole disk vfat 'USB'");
    expect(diskContents(disk('sdc'))).toBe('blank');
    expect(diskContents(disk('sdd', { probeError: 'Operation not permitted' }))).toBe('unreadable: Operation not permitted');
  });

  it('describes the kind and says why a disk cannot be used', () => {
    expect(diskKind(disk('sde', { transport: 'usb', rotational: true, removable: true }))).toBe('usb HDD removable');
    expect(unusableReason(disk('sr0', { readonly: true }))).toBe('it is read-only');
    expect(unusableReason(disk('vda'))).toBeUndefined();
  });
});
