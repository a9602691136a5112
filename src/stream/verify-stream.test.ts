import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { Manifest } from './manifest.ts';
import { ByteTap, streamMismatch } from './verify-stream.ts';

// sha256("abc"), FIPS 180-2 appendix B.1
const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

describe('ByteTap', () => {
  it('counts and hashes bytes split across chunks, passing them on unchanged', async () => {
    const tap = new ByteTap({ hash: true });
    const out: Buffer[] = [];
    await pipeline(Readable.from([Buffer.from('a'), Buffer.from('bc')]), tap, new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk);
        cb();
      },
    }));
    expect(tap.bytes).toBe(3);
    expect(tap.sha256()).toBe(ABC);
    expect(Buffer.concat(out).toString()).toBe('abc');
  });

  it('refuses a digest when made without hashing', () => {
    expect(() => new ByteTap().sha256()).toThrow(TypeError);
  });
});

describe('streamMismatch', () => {
  const manifest = { compressedSize: 3, sha256: ABC, uncompressedSize: 10 } as Manifest;
  it('accepts matching measurements', () => {
    expect(streamMismatch(manifest, { compressedBytes: 3, compressedSha256: ABC, uncompressedBytes: 10 })).toBeUndefined();
  });
  it('names the first difference: size, then digest, then decompressed size', () => {
    expect(streamMismatch(manifest, { compressedBytes: 2, compressedSha256: ABC, uncompressedBytes: 10 })).toBe(
      'received 2 bytes, the manifest says 3 (stream truncated or padded)',
    );
    expect(streamMismatch(manifest, { compressedBytes: 3, compressedSha256: '0'.repeat(64), uncompressedBytes: 10 })).toBe(
      'sha-256 mismatch (stream tampered or corrupted)',
    );
    expect(streamMismatch(manifest, { compressedBytes: 3, compressedSha256: ABC, uncompressedBytes: 9 })).toBe(
      'it decompressed to 9 bytes, the manifest says 10',
    );
  });
});
