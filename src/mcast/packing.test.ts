import { describe, expect, it } from 'vitest';
import { blockSizeForDatagram, datagramSize, layoutFor } from './layout.ts';
import { adaptPack, defaultMaxPack, frameLoss, MAX_PACK, PACK_DOWN_FRAME_LOSS, PACK_UP_FRAME_LOSS, runLength } from './packing.ts';

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
  const datagramLoss = (frame: number, frames: number) => 1 - (1 - frame) ** frames;

  it('judges loss per frame: packs less above PACK_DOWN_FRAME_LOSS, more below PACK_UP_FRAME_LOSS, holds in between', () => {
    expect(frameLoss(datagramLoss(0.05, 12), 12)).toBeCloseTo(0.05, 10);
    expect(adaptPack(2, 2, datagramLoss(PACK_DOWN_FRAME_LOSS + 0.005, 12), 6)).toBe(1);
    expect(adaptPack(1, 2, datagramLoss(0.3, 6), 6)).toBe(1);
    expect(adaptPack(1, 2, datagramLoss(PACK_UP_FRAME_LOSS - 0.005, 6), 6)).toBe(2);
    expect(adaptPack(2, 2, 0, 6)).toBe(2);
    const between = (PACK_UP_FRAME_LOSS + PACK_DOWN_FRAME_LOSS) / 2;
    expect(adaptPack(1, 2, datagramLoss(between, 6), 6)).toBe(1);
    expect(adaptPack(2, 2, datagramLoss(between, 12), 6)).toBe(2);
    expect(adaptPack(3, 2, 0.5, 6)).toBe(2);
  });

  it('settles at one block at 5% frame loss and at two at 1%, for 6-fragment blocks and jumbo frames', () => {
    for (const fragments of [6, 1]) {
      for (const [frame, settled] of [[0.05, 1], [0.01, 2], [0, 2]] as const) {
        let pack = 2;
        for (let i = 0; i < 10; i++) pack = adaptPack(pack, 2, datagramLoss(frame, pack * fragments), fragments);
        expect(pack, `${frame * 100}% frame loss, ${fragments} fragments per block`).toBe(settled);
      }
    }
  });
});
