/**
 * Where a transfer's bytes come from: a file read in chunks (a 100 MiB
 * kernel image is never loaded whole), a rendered in-memory file, or
 * either one converted to netascii. Sources are read strictly in order;
 * the transfer keeps the blocks it may have to resend.
 */
import type { FileHandle } from 'node:fs/promises';

export interface ByteSource {
  /** Bytes the client will receive, if known before sending (for tsize). */
  readonly size: number | undefined;
  /**
   * The next `length` bytes, or fewer only at the end. The returned view may
   * be reused by the next call, so copy it before reading again.
   */
  read(length: number): Promise<Buffer>;
  close(): Promise<void>;
}

export class BufferSource implements ByteSource {
  readonly size: number;
  private readonly data: Buffer;
  private offset = 0;

  constructor(data: Buffer) {
    this.data = data;
    this.size = data.length;
  }

  read(length: number): Promise<Buffer> {
    const chunk = this.data.subarray(this.offset, this.offset + length);
    this.offset += chunk.length;
    return Promise.resolve(chunk);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Reads ahead in chunks so a 512-byte lock-step transfer costs one read per 128 blocks. */
const CHUNK_SIZE = 64 * 1024;

export class FileSource implements ByteSource {
  readonly size: number;
  private readonly handle: FileHandle;
  private readonly chunk: Buffer;
  private start = 0;
  private end = 0;
  private position = 0;
  private readonly out: Buffer;

  /** Takes ownership of `handle`; `size` is the file's size from fstat. */
  constructor(handle: FileHandle, size: number, maxRead: number) {
    this.handle = handle;
    this.size = size;
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_SIZE, maxRead));
    this.out = Buffer.allocUnsafe(maxRead);
  }

  async read(length: number): Promise<Buffer> {
    let filled = 0;
    while (filled < length) {
      if (this.start === this.end && !(await this.refill())) break;
      const n = Math.min(length - filled, this.end - this.start);
      this.chunk.copy(this.out, filled, this.start, this.start + n);
      this.start += n;
      filled += n;
    }
    return this.out.subarray(0, filled);
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private async refill(): Promise<boolean> {
    const { bytesRead } = await this.handle.read(this.chunk, 0, this.chunk.length, this.position);
    this.position += bytesRead;
    this.start = 0;
    this.end = bytesRead;
    return bytesRead > 0;
  }
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * RFC 1350 netascii as RFC 764 defines it: a line end (LF) becomes CR LF and
 * a bare CR becomes CR NUL. The converted size is unknown until the end, so
 * such a transfer answers no tsize.
 */
export class NetasciiSource implements ByteSource {
  readonly size = undefined;
  private readonly inner: ByteSource;
  private pending: Buffer = Buffer.alloc(0);
  private eof = false;

  constructor(inner: ByteSource) {
    this.inner = inner;
  }

  async read(length: number): Promise<Buffer> {
    while (this.pending.length < length && !this.eof) {
      const raw = await this.inner.read(Math.max(length, 4096));
      if (raw.length === 0) this.eof = true;
      else this.pending = Buffer.concat([this.pending, toNetascii(raw)]);
    }
    const chunk = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(chunk.length);
    return chunk;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Exported for tests. Each byte maps on its own, so chunks convert independently. */
export function toNetascii(raw: Buffer): Buffer {
  let extra = 0;
  for (const b of raw) if (b === CR || b === LF) extra++;
  if (extra === 0) return Buffer.from(raw);
  const out = Buffer.allocUnsafe(raw.length + extra);
  let o = 0;
  for (const b of raw) {
    if (b === LF) {
      out[o++] = CR;
      out[o++] = LF;
    } else if (b === CR) {
      out[o++] = CR;
      out[o++] = 0;
    } else {
      out[o++] = b;
    }
  }
  return out;
}
