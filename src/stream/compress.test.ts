import { randomBytes } from 'node:crypto';
import { Readable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createZstdCompressor, createZstdDecompressor, ZSTD_MAGIC } from './compress.ts';

async function through(input: Buffer, transform: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([input]), transform, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

describe('zstd helpers', () => {
  it('round-trips bytes and writes a zstd frame with a content checksum', async () => {
    const input = Buffer.concat([randomBytes(100_000), Buffer.alloc(1_000_000, 'trowel ')]);
    const compressed = await through(input, createZstdCompressor());
    expect(compressed.subarray(0, 4)).toEqual(ZSTD_MAGIC);
    // Frame header descriptor (RFC 8878 §3.1.1.1.1): bit 2 is the content checksum flag.
    expect(compressed[4]! & 0b100).toBe(0b100);
    expect(compressed.length).toBeLessThan(200_000);
    expect((await through(compressed, createZstdDecompressor())).equals(input)).toBe(true);
  });

  it('decompresses a frame made by the zstd command line tool', async () => {
    // printf 'hello trowel\n' | zstd -q -c | xxd -p
    const frame = Buffer.from('28b52ffd0458690000' + '68656c6c6f2074726f77656c0a' + '435e174a', 'hex');
    expect((await through(frame, createZstdDecompressor())).toString()).toBe('hello trowel\n');
  });

  it('fails on a flipped bit', async () => {
    const input = Buffer.alloc(300_000, 'abc');
    const compressed = await through(input, createZstdCompressor());
    const bad = Buffer.from(compressed);
    bad[bad.length - 2]! ^= 0x01; // inside the checksum
    await expect(through(bad, createZstdDecompressor())).rejects.toMatchObject({ code: 'ZSTD_error_checksum_wrong' });
  });
});
