import { describe, expect, it } from 'vitest';
import { blockSizeForDatagram, datagramSize, layoutFor } from './layout.ts';
import { adaptPack, defaultMaxPack, MAX_PACK, PACK_DOWN_LOSS, PACK_UP_LOSS, runLength } from './packing.ts';

describe('defaultMaxPack', () => {
  it('packs two ~9 KB blocks at MTU 1500 and 9000, more of smaller ones, never past UDP or MAX_PACK', () => {
    const at = (mtu: number, fragments: number) => {
      const datagram = datagramSize(mtu, fragments);
      return defaultMaxPack(datagram, blockSizeForDatagram(datagram));
    };
    expect(at(1500, 6)).toBe(2);
    expect(at(9000, 1)).toBe(2);
    expect(at(1500, 1)).toBe(12);
    expect(at(1500, 12)).toBe(1);
    expect(at(576, 1)).toBe(MAX_PACK);
    expect(defaultMaxPack(40000, 39900)).toBe(1);
  });
});

describe('runLength', () => {
  // 10 blocks of 100 bytes, the last one 50.
  const layout = layoutFor(950, 100, 4);

  it('counts the whole blocks a payload covers', () => {
    expect(runLength(layout, 0, 100)).toBe(1);
    expect(runLength(layout, 0, 200)).toBe(2);
    expect(runLength(layout, 3, 400)).toBe(4);
    expect(runLength(layout, 9, 50)).toBe(1);
    expect(runLength(layout, 8, 150)).toBe(2);
  });

  it('is 0 for a payload that is not whole blocks, runs past the end, or is empty', () => {
    expect(runLength(layout, 0, 150)).toBe(0);
    expect(runLength(layout, 0, 99)).toBe(0);
    expect(runLength(layout, 9, 100)).toBe(0);
    expect(runLength(layout, 8, 200)).toBe(0);
    expect(runLength(layout, 10, 100)).toBe(0);
    expect(runLength(layout, 0, 0)).toBe(0);
    expect(runLength(layoutFor(100_000, 10, 4), 0, (MAX_PACK + 1) * 10)).toBe(0);
  });
});

describe('adaptPack', () => {
  it('packs less above PACK_DOWN_LOSS, more below PACK_UP_LOSS, and holds in between', () => {
    expect(adaptPack(2, 2, PACK_DOWN_LOSS + 0.01)).toBe(1);
    expect(adaptPack(1, 2, PACK_DOWN_LOSS + 0.3)).toBe(1);
    expect(adaptPack(1, 2, PACK_UP_LOSS - 0.01)).toBe(2);
    expect(adaptPack(2, 2, 0)).toBe(2);
    expect(adaptPack(1, 2, (PACK_UP_LOSS + PACK_DOWN_LOSS) / 2)).toBe(1);
    expect(adaptPack(2, 2, (PACK_UP_LOSS + PACK_DOWN_LOSS) / 2)).toBe(2);
    expect(adaptPack(3, 2, 0.5)).toBe(2);
  });

  it('settles at one block at 5% frame loss and at two at 1% (6-fragment blocks)', () => {
    const datagramLoss = (frameLoss: number, pack: number) => 1 - (1 - frameLoss) ** (6 * pack);
    for (const [frameLoss, settled] of [[0.05, 1], [0.01, 2], [0, 2]] as const) {
      let pack = 2;
      for (let i = 0; i < 10; i++) pack = adaptPack(pack, 2, datagramLoss(frameLoss, pack));
      expect(pack, `${frameLoss * 100}% frame loss`).toBe(settled);
    }
  });
});
