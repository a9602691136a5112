import { describe, expect, it } from 'vitest';
import { partitionName, partitionPath } from './partition-name.ts';

describe('partitionName', () => {
  it('appends the number to a name ending in a letter', () => {
    expect(partitionName('sda', 1)).toBe('sda1');
    expect(partitionName('vdb', 12)).toBe('vdb12');
  });
  it('puts a "p" before the number when the name ends in a digit', () => {
    expect(partitionName('nvme0n1', 1)).toBe('nvme0n1p1');
    expect(partitionName('mmcblk0', 2)).toBe('mmcblk0p2');
    expect(partitionName('loop7', 3)).toBe('loop7p3');
  });
  it('refuses partition 0', () => {
    expect(() => partitionName('sda', 0)).toThrow(RangeError);
  });
});

describe('partitionPath', () => {
  it('keeps the directory of the disk path', () => {
    expect(partitionPath('/dev/nvme0n1', 3)).toBe('/dev/nvme0n1p3');
    expect(partitionPath('/dev/vda', 2)).toBe('/dev/vda2');
  });
});
