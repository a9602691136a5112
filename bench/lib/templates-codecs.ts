/**
 * zstd against gzip on a real template's uncompressed send stream: each
 * codec compresses the stream file to a file, then decompresses that file
 * to nothing, timed separately. node:zlib's zstd is trowel's own
 * compressor (imported from the measured commit: level and frame options
 * as the stream cache uses them) and trowel's decompressor; node:zlib gzip
 * at level 6 is what the same runtime would give with gzip; the gzip and
 * zstd command-line tools are the references outside Node.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { run } from '../../src/sys/run.ts';
import type { Codec, CodecMeasured } from './templates-report.ts';

/** What the bench needs of the measured commit's src/stream/compress.ts. */
export interface TrowelCompression {
  ZSTD_LEVEL: number;
  createZstdCompressor(level?: number): Transform;
  createZstdDecompressor(): Transform;
}

interface CodecImpl extends Codec {
  compress(input: string, output: string): Promise<void>;
  /** Resolves with the decompressed byte count. */
  decompress(input: string): Promise<number>;
}

export function codecsFor(trowel: TrowelCompression, zstdCli: boolean): CodecImpl[] {
  const codecs: CodecImpl[] = [
    {
      id: 'node-zstd',
      label: `zstd level ${trowel.ZSTD_LEVEL}, node:zlib (trowel's stream cache and receive)`,
      compress: (i, o) => pipeline(createReadStream(i), trowel.createZstdCompressor(), createWriteStream(o)),
      decompress: (i) => drain(createReadStream(i), trowel.createZstdDecompressor()),
    },
    {
      id: 'node-gzip',
      label: 'gzip level 6, node:zlib',
      compress: (i, o) => pipeline(createReadStream(i), createGzip({ level: 6 }), createWriteStream(o)),
      decompress: (i) => drain(createReadStream(i), createGunzip()),
    },
    {
      id: 'gzip-cli',
      label: 'gzip -6 (command line)',
      compress: (i, o) => shell('gzip -6 -c "$1" > "$2"', i, o),
      decompress: (i) => shellCount('gzip -dc "$1" | wc -c', i),
    },
  ];
  if (zstdCli) {
    codecs.push({
      id: 'zstd-cli',
      label: 'zstd -3 -T1 (command line, one thread)',
      compress: (i, o) => shell('zstd -q -3 -T1 -f -o "$2" "$1"', i, o),
      decompress: (i) => shellCount('zstd -q -dc "$1" | wc -c', i),
    });
  }
  return codecs;
}

/** Compresses `input` to `output`, then decompresses it, checking the length comes back. */
export async function measureCodec(codec: CodecImpl, input: string, output: string, rep: number): Promise<CodecMeasured> {
  const inputBytes = statSync(input).size;
  let started = performance.now();
  await codec.compress(input, output);
  const compressSeconds = (performance.now() - started) / 1000;
  const compressedBytes = statSync(output).size;
  started = performance.now();
  const back = await codec.decompress(output);
  const decompressSeconds = (performance.now() - started) / 1000;
  if (back !== inputBytes) throw new Error(`Cannot trust ${codec.id}: ${back} bytes came back from ${inputBytes}`);
  return { rep, compressedBytes, compressSeconds, decompressSeconds };
}

async function drain(source: NodeJS.ReadableStream, transform: Transform): Promise<number> {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  await pipeline(source, transform, sink);
  return bytes;
}

async function shell(script: string, ...args: string[]): Promise<void> {
  await run('sh', ['-c', script, 'codec', ...args]);
}

/** `wc -c` is the sink: it reads in big blocks and costs next to nothing. */
async function shellCount(script: string, ...args: string[]): Promise<number> {
  return Number((await run('bash', ['-o', 'pipefail', '-c', script, 'codec', ...args])).stdout.trim());
}
