import { describe, expect, it } from 'vitest';
import { alignedChunks } from './fetch-range.ts';

async function collect(chunks: Uint8Array[], start: number, alignment: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of alignedChunks((async function* () { yield* chunks; })(), start, alignment)) out.push(Buffer.from(c));
  return out;
}

describe('alignedChunks', () => {
  it('cuts every chunk but the last on a block boundary, and loses no byte', async () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const pieces = [data.subarray(0, 7), data.subarray(7, 300), data.subarray(300, 301), data.subarray(301, 1000)];
    const out = await collect(pieces, 200, 100);
    expect(Buffer.concat(out).equals(data)).toBe(true);
    let offset = 200;
    for (const c of out.slice(0, -1)) {
      offset += c.length;
      expect(offset % 100).toBe(0);
    }
    expect(offset + out.at(-1)!.length).toBe(1200);
  });

  it('passes a stream that is already aligned through unchanged', async () => {
    const out = await collect([Buffer.alloc(64, 1), Buffer.alloc(32, 2)], 0, 32);
    expect(out.map((c) => c.length)).toEqual([64, 32]);
  });

  it('keeps a short tail that never reaches a boundary', async () => {
    const out = await collect([Buffer.alloc(10), Buffer.alloc(5)], 50, 100);
    expect(out.map((c) => c.length)).toEqual([15]);
  });
});
