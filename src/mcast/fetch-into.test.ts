import { describe, expect, it } from 'vitest';
import { fetchInto } from './fetch-into.ts';
import { layoutFor } from './layout.ts';

const layout = layoutFor(250, 100, 4); // blocks [0,100) [100,200) [200,250)

function serve(source: Buffer, chunkSizes: number[]) {
  return (start: number, end: number) =>
    Promise.resolve((async function* () {
      let at = start;
      for (const n of chunkSizes) {
        if (at >= end) return;
        yield source.subarray(at, Math.min(end, at + n));
        at += n;
      }
    })());
}

describe('fetchInto', () => {
  const source = Buffer.from(Array.from({ length: 250 }, (_, i) => i));

  it('hands on chunks with their offsets and the whole blocks they complete', async () => {
    const seen: [number, number, number][] = [];
    await fetchInto(serve(source, [60, 60, 60, 70]), layout, 0, 250, (offset, chunk, blocksEnd) => {
      seen.push([offset, chunk.length, blocksEnd]);
      return true;
    });
    expect(seen).toEqual([[0, 60, 0], [60, 60, 1], [120, 60, 1], [180, 70, 3]]);
  });

  it('stops when told to', async () => {
    let calls = 0;
    await fetchInto(serve(source, [50, 50, 50]), layout, 0, 150, () => ++calls < 2);
    expect(calls).toBe(2);
  });

  it('rejects a range that comes back longer or shorter than asked', async () => {
    const longer = () => Promise.resolve((async function* () {
      yield source.subarray(0, 120);
    })());
    await expect(fetchInto(longer, layout, 0, 100, () => true)).rejects.toThrow(/more than asked/);
    await expect(fetchInto(serve(source, [50]), layout, 0, 100, () => true)).rejects.toThrow(/ended at 50/);
  });
});
