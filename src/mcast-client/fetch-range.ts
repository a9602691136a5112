/**
 * One byte range of the stream over HTTP (RFC 9110 §14): what a multicast
 * receiver that joined late, or was dropped, fetches instead. If-Range with
 * the stream's strong ETag makes a server that has other bytes now answer
 * 200 instead of the range, which is refused here.
 *
 * With `alignment` (the session's block size), chunks are cut so each
 * ends on a block boundary (the last may be short): the receiver marks the
 * blocks a chunk completes, and a block split across two network chunks
 * would otherwise be marked by neither.
 */
import { request, type Dispatcher } from 'undici';
import { TrowelError } from '../errors.ts';

export function rangeFetcher(url: string, etag: string, options: { dispatcher?: Dispatcher; signal?: AbortSignal; alignment?: number } = {}) {
  return async (start: number, endExclusive: number): Promise<AsyncIterable<Uint8Array>> => {
    if (!(endExclusive > start)) throw new RangeError(`Cannot fetch bytes ${start}-${endExclusive}: the range is empty`);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'GET',
        headers: { range: `bytes=${start}-${endExclusive - 1}`, 'if-range': etag, 'accept-encoding': 'identity' },
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
        dispatcher: options.dispatcher,
        signal: options.signal,
      });
    } catch (e) {
      throw new TrowelError('EUNREACHABLE', `Cannot fetch bytes ${start}-${endExclusive - 1} of ${url}: ${(e as { code?: string }).code ?? (e as Error).message}`, { cause: e });
    }
    const range = response.headers['content-range'];
    const expected = new RegExp(`^bytes ${start}-${endExclusive - 1}/\\d+$`);
    if (response.statusCode !== 206 || typeof range !== 'string' || !expected.test(range)) {
      await response.body.dump().catch(() => {});
      throw new TrowelError('ERANGE', `Cannot fetch bytes ${start}-${endExclusive - 1} of ${url}: the server answered ${response.statusCode}${typeof range === 'string' ? ` (${range})` : ''}, not that range`);
    }
    return options.alignment ? alignedChunks(response.body, start, options.alignment) : response.body;
  };
}

/** Re-cuts a byte stream that starts at `start` so every chunk but the last ends on a multiple of `alignment`. */
export async function* alignedChunks(chunks: AsyncIterable<Uint8Array>, start: number, alignment: number): AsyncGenerator<Buffer> {
  let offset = start;
  let carry: Buffer | undefined;
  for await (const chunk of chunks) {
    const bytes = carry ? Buffer.concat([carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const cut = Math.floor((offset + bytes.length) / alignment) * alignment - offset;
    if (cut > 0) {
      yield bytes.subarray(0, cut);
      offset += cut;
    }
    carry = cut < bytes.length ? bytes.subarray(Math.max(cut, 0)) : undefined;
  }
  if (carry) yield carry;
}
