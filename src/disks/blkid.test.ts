import { describe, expect, it } from 'vitest';
import { parseBlkidExport } from './blkid.ts';

describe('parseBlkidExport', () => {
  it('reads TYPE, LABEL and UUID of a filesystem, unescaping the label', () => {
    const text = 'DEVNAME=/dev/sdb1\nLABEL=MY\\ DISK\nUUID=967A-533C\nVERSION=FAT16\nTYPE=vfat\nUSAGE=filesystem\n';
    expect(parseBlkidExport(text)).toEqual({ filesystem: { type: 'vfat', label: 'MY DISK', uuid: '967A-533C' }, partitionTable: undefined });
  });

  it('reads the partition table type of a whole disk, which has no TYPE', () => {
    expect(parseBlkidExport('DEVNAME=/dev/vda\nPTUUID=43665c28-3d23-c243-8f95-f461d7971cc6\nPTTYPE=gpt\n')).toEqual({ filesystem: undefined, partitionTable: 'gpt' });
  });

  it('finds nothing in empty output (blkid exits 2 for a blank device)', () => {
    expect(parseBlkidExport('')).toEqual({ filesystem: undefined, partitionTable: undefined });
  });

  it('reads the partition entry of a partition without a filesystem (a BIOS boot partition)', () => {
    const text = 'DEVNAME=/dev/vda1\nPART_ENTRY_SCHEME=gpt\nPART_ENTRY_NAME=bios\nPART_ENTRY_TYPE=21686148-6449-6e6f-744e-656564454649\nPART_ENTRY_NUMBER=1\n';
    expect(parseBlkidExport(text)).toEqual({
      filesystem: undefined, partitionTable: undefined, partEntry: { type: '21686148-6449-6e6f-744e-656564454649', name: 'bios' },
    });
  });

  it('keeps "=" inside a value', () => {
    expect(parseBlkidExport('TYPE=ext4\nLABEL=a=b\n').filesystem).toEqual({ type: 'ext4', label: 'a=b', uuid: undefined });
  });
});
