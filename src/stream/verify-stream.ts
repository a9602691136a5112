/**
 * Measures what flows through a pipeline without changing it: the byte
 * count, and the sha-256 when asked. The receiving client puts one tap on
 * the compressed bytes (compared with the manifest's sha256 and
 * compressedSize) and one on the decompressed bytes (uncompressedSize).
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { Manifest } from './manifest.ts';

export class ByteTap extends Transform {
  readonly #hash: Hash | undefined;
  #bytes = 0;

  constructor(options: { hash?: boolean } = {}) {
    super();
    this.#hash = options.hash ? createHash('sha256') : undefined;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Lowercase hex sha-256 of everything that passed; only once the stream has ended. */
  sha256(): string {
    if (!this.#hash) throw new TypeError('Cannot give a sha-256: this tap was made without hashing');
    return this.#hash.copy().digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    this.#hash?.update(chunk);
    callback(null, chunk);
  }
}

export interface Measured {
  compressedBytes: number;
  compressedSha256: string;
  uncompressedBytes: number;
}

/** Why the received bytes are not the manifest's stream, or undefined when they are. */
export function streamMismatch(manifest: Manifest, measured: Measured): string | undefined {
  if (measured.compressedBytes !== manifest.compressedSize) {
    return `received ${measured.compressedBytes} bytes, the manifest says ${manifest.compressedSize} (stream truncated or padded)`;
  }
  if (measured.compressedSha256 !== manifest.sha256) return 'sha-256 mismatch (stream tampered or corrupted)';
  if (measured.uncompressedBytes !== manifest.uncompressedSize) {
    return `it decompressed to ${measured.uncompressedBytes} bytes, the manifest says ${manifest.uncompressedSize}`;
  }
  return undefined;
}
