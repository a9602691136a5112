import { describe, expect, it } from 'vitest';
import { layoutOptions, layoutPreview } from './layouts.ts';
import { sampleDisks } from './test-fixtures.ts';

describe('layoutOptions', () => {
  it('offers each layout where it fits and says why not elsewhere', () => {
    const [blank, windows, pool] = sampleDisks();
    const unavailable = (d: typeof blank) => layoutOptions(d!).map((o) => [o.layout, o.unavailable ?? 'ok']);
    expect(unavailable(blank)).toEqual([['auto', 'ok'], ['keep', 'the disk holds no trowel pool'], ['free', 'needs a GPT disk with free space']]);
    expect(unavailable(windows)).toEqual([['auto', 'ok'], ['keep', 'the disk holds no trowel pool'], ['free', 'ok']]);
    expect(unavailable(pool)).toEqual([['auto', 'ok'], ['keep', 'ok'], ['free', 'not enough free space']]);
    expect(layoutOptions(blank!).filter((o) => o.destructive).map((o) => o.layout)).toEqual(['auto']);
  });
});

describe('layoutPreview', () => {
  it('shows the new table of the whole-disk layout and what it erases', () => {
    const p = layoutPreview(sampleDisks()[1]!, 'auto');
    expect(p.summary).toBe("New GPT on /dev/vdb; erases 2 partitions (vfat, ntfs 'Windows')");
    expect(p.rows).toEqual([
      ['#', 'device', 'size', 'contents', 'change'],
      ['1', '/dev/vdb1', '1.00 MiB', 'BIOS boot (GRUB)', 'new'],
      ['2', '/dev/vdb2', '256.0 MiB', "EFI system, vfat 'TROWEL-ESP'", 'new'],
      ['3', '/dev/vdb3', '~3.75 GiB', "btrfs 'trowel' (templates, @root, @home)", 'new'],
    ]);
  });

  it('keeps the partitions there and adds trowel\'s in the free space', () => {
    const p = layoutPreview(sampleDisks()[1]!, 'free');
    expect(p.summary).toBe('Nothing is erased; 3 partitions are added to the GPT of /dev/vdb');
    expect(p.rows.map((r) => [r[1], r[4]])).toEqual([['device', 'change'], ['/dev/vdb1', 'kept'], ['/dev/vdb2', 'kept'], ['/dev/vdb3', 'new'], ['/dev/vdb4', 'new'], ['/dev/vdb5', 'new']]);
  });

  it('keeps the pool and names the versions on it', () => {
    const p = layoutPreview(sampleDisks()[2]!, 'keep', ['org.example.Desktop 20260101T000000Z']);
    expect(p.summary).toBe('Nothing is erased; the new version goes into the pool on /dev/vdc3; on it: org.example.Desktop 20260101T000000Z');
    expect(p.rows.map((r) => r[4])).toEqual(['change', 'kept', 'boot files updated', 'receive the template, @home @persistent kept']);
  });

  it('says why a layout cannot be planned', () => {
    expect(layoutPreview(sampleDisks()[0]!, 'free')).toEqual({ summary: 'Cannot use free space on /dev/vda: it has no partition table, and layout free adds to a GPT (use layout auto: the whole disk is free)', rows: [] });
  });
});
