import { describe, expect, it } from 'vitest';
import { BlockMap } from './blockmap.ts';
import { layoutFor } from './layout.ts';

describe('BlockMap', () => {
  // 10 blocks of 100 bytes (the last one 50), groups of 4: [0-3] [4-7] [8-9].
  const layout = layoutFor(950, 100, 4);

  it('advances the contiguous watermark over blocks that arrived out of order', () => {
    const map = new BlockMap(layout);
    expect(map.add(1)).toBe(true);
    expect(map.add(2)).toBe(true);
    expect(map.contiguous).toBe(0);
    expect(map.add(0)).toBe(true);
    expect(map.contiguous).toBe(3);
    expect(map.complete).toBe(3);
  });

  it('reports a duplicate and counts it once', () => {
    const map = new BlockMap(layout);
    map.add(5);
    expect(map.add(5)).toBe(false);
    expect(map.complete).toBe(1);
    expect(map.groupMissing(1)).toBe(3);
  });

  it('counts missing blocks per group, the short last group included', () => {
    const map = new BlockMap(layout);
    expect(map.groupMissing(2)).toBe(2);
    map.add(9);
    expect(map.groupMissing(2)).toBe(1);
    expect(map.groupPresence(2)).toEqual([false, true]);
  });

  it('is complete once every block is present', () => {
    const map = new BlockMap(layout);
    for (let b = 9; b >= 0; b--) map.add(b);
    expect(map.isComplete).toBe(true);
    expect(map.contiguous).toBe(10);
    expect(map.missingRuns()).toEqual([]);
  });

  it('lists missing runs and merges short gaps', () => {
    const map = new BlockMap(layout);
    for (const b of [0, 1, 3, 6, 7]) map.add(b);
    expect(map.missingRuns()).toEqual([[2, 3], [4, 6], [8, 10]]);
    expect(map.missingRuns(0, 1)).toEqual([[2, 6], [8, 10]]);
    expect(map.missingRuns(5)).toEqual([[5, 6], [8, 10]]);
  });

  it('lists needs of groups in range, less the parity held, lowest first and at most max', () => {
    const map = new BlockMap(layout);
    for (const b of [0, 1, 2, 3, 4, 6]) map.add(b); // group 0 complete, group 1 lacks 2, group 2 lacks 2
    expect(map.needs(0, 3, () => 0, 10)).toEqual([{ group: 1, missing: 2, maskLow: 0b1010, maskHigh: 0 }, { group: 2, missing: 2, maskLow: 0b11, maskHigh: 0 }]);
    expect(map.needs(0, 2, () => 0, 10)).toEqual([{ group: 1, missing: 2, maskLow: 0b1010, maskHigh: 0 }]);
    expect(map.needs(0, 3, (g) => (g === 1 ? 2 : 1), 10)).toEqual([{ group: 2, missing: 1, maskLow: 0b11, maskHigh: 0 }]);
    expect(map.needs(2, 3, () => 0, 10)).toEqual([{ group: 2, missing: 2, maskLow: 0b11, maskHigh: 0 }]);
    expect(map.needs(0, 3, () => 0, 1)).toEqual([{ group: 1, missing: 2, maskLow: 0b1010, maskHigh: 0 }]);
  });

  it('masks the missing blocks of a group of up to 64 in two 32-bit words, and none for larger groups', () => {
    const wide = layoutFor(64 * 100, 100, 64);
    const map = new BlockMap(wide);
    for (let b = 0; b < 64; b++) if (b !== 0 && b !== 31 && b !== 32 && b !== 63) map.add(b);
    expect(map.missingMask(0)).toEqual({ maskLow: 0x80000001, maskHigh: 0x80000001 });
    const huge = new BlockMap(layoutFor(100 * 100, 100, 100));
    expect(huge.missingMask(0)).toEqual({ maskLow: 0, maskHigh: 0 });
  });
});
