/**
 * Test payloads: random bytes (so no layer can compress or dedupe them)
 * written in 1 MiB chunks with their sha256, and the check that a
 * download is byte-identical.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';

const CHUNK = 1024 * 1024;

/** Writes `bytes` random bytes to `path` (mode 0644, readable by servers that drop privileges); returns the sha256 hex. */
export function writeRandomFile(path: string, bytes: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w', 0o644);
  try {
    const chunk = Buffer.alloc(CHUNK);
    for (let left = bytes; left > 0; left -= CHUNK) {
      const piece = chunk.subarray(0, Math.min(CHUNK, left));
      randomFillSync(piece);
      hash.update(piece);
      writeSync(fd, piece);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
