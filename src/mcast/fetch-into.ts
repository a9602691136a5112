/**
 * A byte range of the stream through the caller's `fetchRange` (HTTP Range
 * in trowel): chunks are handed on with their offsets and, as they land,
 * how many whole blocks the range now covers. Ranges start on a block
 * boundary; chunks end anywhere, so a block counts once the chunk that
 * completes it has arrived.
 */
import type { Layout } from './layout.ts';

export type FetchRange = (start: number, endExclusive: number) => Promise<AsyncIterable<Uint8Array>>;

/**
 * Fetches [start, end). `onChunk(offset, chunk, blocksEnd)` stores a chunk
 * (blocks below `blocksEnd` are then complete) and returns false to stop.
 * Rejects when the range comes back longer or shorter than asked.
 */
export async function fetchInto(fetchRange: FetchRange, layout: Layout, start: number, end: number, onChunk: (offset: number, chunk: Uint8Array, blocksEnd: number) => boolean): Promise<void> {
  const chunks = await fetchRange(start, end);
  let offset = start;
  for await (const chunk of chunks) {
    if (offset + chunk.length > end) throw new Error(`fetchRange(${start}, ${end}) returned more than asked`);
    const at = offset;
    offset += chunk.length;
    const blocksEnd = offset === layout.totalBytes ? layout.blockCount : Math.floor(offset / layout.blockSize);
    if (!onChunk(at, chunk, blocksEnd)) return;
  }
  if (offset !== end) throw new Error(`fetchRange(${start}, ${end}) ended at ${offset}`);
}
