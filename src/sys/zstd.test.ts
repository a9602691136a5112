import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { constants, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CommandError } from './run.ts';
import { decompressedBytes, decompressInto, hasZstd, isBrokenPipeExit } from './zstd.ts';

/** A child that collects its stdin (cat), standing in for btrfs receive. */
function sink(): { stdin: Writable; output: Promise<Buffer> } {
  const child = spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  return { stdin: child.stdin, output: new Promise((resolve) => child.on('close', () => resolve(Buffer.concat(chunks)))) };
}

describe('decompressedBytes', () => {
  it('reads the size zstd -v reports for stdin', () => {
    expect(decompressedBytes('*** Zstandard CLI (64-bit) v1.5.4, by Yann Collet ***\n/*stdin*\\            : 667336710 bytes \n')).toBe(667336710);
  });
  it('throws a CommandError when no size is reported', () => {
    expect(() => decompressedBytes('*** Zstandard CLI ***\n')).toThrow(CommandError);
  });
});

describe('isBrokenPipeExit', () => {
  it('tells a SIGPIPE or EPIPE exit from a decoding error', () => {
    expect(isBrokenPipeExit(new CommandError('zstd -d -c', null, 'SIGPIPE', ''))).toBe(true);
    expect(isBrokenPipeExit(new CommandError('zstd -d -c', 1, null, '/*stdin*\\ : Write error : cannot write block : Broken pipe'))).toBe(true);
    expect(isBrokenPipeExit(new CommandError('zstd -d -c', 1, null, "/*stdin*\\ : Decoding error (36) : Restored data doesn't match checksum"))).toBe(false);
  });
});

describe.runIf(await hasZstd())('decompressInto', () => {
  const plain = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));

  it('writes the decompressed bytes after the first `skip` into the child, and reports the full size', async () => {
    const out = sink();
    out.stdin.write(Buffer.from('HEAD'));
    const z = decompressInto(out.stdin, 10);
    z.stdin.end(zstdCompressSync(plain));
    expect(await z.done).toBe(plain.length);
    expect((await out.output).equals(Buffer.concat([Buffer.from('HEAD'), plain.subarray(10)]))).toBe(true);
  });

  it('fails with zstd\'s error on a corrupt frame', async () => {
    const out = sink();
    const z = decompressInto(out.stdin, 0);
    // With a content checksum, as trowel's streams have (a flipped literal byte alone may decode).
    const packed = zstdCompressSync(plain, { params: { [constants.ZSTD_c_checksumFlag]: 1 } });
    packed[Math.floor(packed.length / 2)]! ^= 0x10;
    z.stdin.end(packed);
    const e = await z.done.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(CommandError);
    expect((e as CommandError).command).toBe('zstd -d -c');
    expect(isBrokenPipeExit(e)).toBe(false);
    await out.output;
  });
});
