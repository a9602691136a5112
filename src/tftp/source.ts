/**
 * Where a transfer's bytes come from: a file read in chunks (a 100 MiB
 * kernel image is never loaded whole), a rendered in-memory file, or
 * either one converted to netascii. Sources are read strictly in order;
 * the transfer keeps the blocks it may have to resend.
 *
 * `read` answers synchronously when the bytes are already in memory, so a
 * lock-step transfer sends the next block from the ACK's own callback with
 * no promise per block; only a read that must wait for the disk returns a
 * Promise.
 */
import type { FileHandle } from 'node:fs/promises';

export interface ByteSource {
  /** Bytes the client will receive, if known before sending (for tsize). */
  readonly size: number | undefined;
  /**
   * The next `length` bytes, or fewer only at the end: a Buffer when they are
   * in memory, else a Promise of one. The returned view may be reused by the
   * next call, so copy it before reading again.
   */
  read(length: number): Buffer | Promise<Buffer>;
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

  read(length: number): Buffer {
    const chunk = this.data.subarray(this.offset, this.offset + length);
    this.offset += chunk.length;
    return chunk;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Read-ahead chunk: one disk read per 178 blocks of 1468 bytes (512 of 512),
 * so the thread-pool round trip of a read is paid rarely. Two per transfer
 * (one served, one being read), or less for a smaller file.
 */
const CHUNK_SIZE = 256 * 1024;

/**
 * A file read ahead with two alternating chunks: while blocks are cut from
 * one, the next is already being read into the other, so a read almost never
 * waits. A block that straddles two chunks is copied into a buffer of its own.
 */
export class FileSource implements ByteSource {
  readonly size: number;
  private readonly handle: FileHandle;
  /** The chunk blocks are cut from, valid from `start` to `end`, and the one being read ahead. */
  private current: Buffer;
  private spare: Buffer;
  private start = 0;
  private end = 0;
  /** File offset of the next read-ahead. */
  private position = 0;
  /** The read-ahead into `spare`: in flight, then its byte count or its error. */
  private ahead: Promise<void> | undefined;
  private aheadBytes: number | undefined;
  private aheadError: Error | undefined;
  /** A read returned no bytes: the end of the file. */
  private eof = false;
  private out: Buffer;

  /** Takes ownership of `handle`; `size` is the file's size from fstat. Starts reading at once. */
  constructor(handle: FileHandle, size: number, maxRead: number) {
    this.handle = handle;
    this.size = size;
    // A small file gets chunks its own size (+1 so one read also finds the end).
    const chunkSize = Math.max(1, Math.min(CHUNK_SIZE, size + 1));
    this.current = Buffer.allocUnsafe(chunkSize);
    this.spare = Buffer.allocUnsafe(chunkSize);
    this.out = Buffer.allocUnsafe(maxRead);
    this.readAhead();
  }

  read(length: number): Buffer | Promise<Buffer> {
    // The hot path: the whole block lies in the current chunk; hand out a view.
    if (this.end - this.start >= length) {
      const view = this.current.subarray(this.start, this.start + length);
      this.start += length;
      return view;
    }
    if (this.out.length < length) this.out = Buffer.allocUnsafe(length);
    return this.gather(length, 0);
  }

  async close(): Promise<void> {
    // Let a read-ahead in flight finish first: its buffer must outlive it.
    await this.ahead;
    await this.handle.close();
  }

  /** Copies the block into `out` across chunk boundaries; waits only if the read-ahead hasn't landed. */
  private gather(length: number, filled: number): Buffer | Promise<Buffer> {
    for (;;) {
      const n = Math.min(length - filled, this.end - this.start);
      this.current.copy(this.out, filled, this.start, this.start + n);
      this.start += n;
      filled += n;
      if (filled === length || this.eof) return this.out.subarray(0, filled);
      if (this.aheadError) return Promise.reject(this.aheadError);
      if (this.aheadBytes === undefined) return this.ahead!.then(() => this.gather(length, filled));
      this.swap();
    }
  }

  /** The landed read-ahead becomes the current chunk, and the next one starts. */
  private swap(): void {
    const bytes = this.aheadBytes!;
    [this.current, this.spare] = [this.spare, this.current];
    this.start = 0;
    this.end = bytes;
    this.position += bytes;
    if (bytes === 0) this.eof = true;
    else this.readAhead();
  }

  private readAhead(): void {
    this.aheadBytes = undefined;
    this.ahead = this.handle.read(this.spare, 0, this.spare.length, this.position).then(
      ({ bytesRead }) => void (this.aheadBytes = bytesRead),
      (e: unknown) => void (this.aheadError = e as Error),
    );
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
      // Netascii is for small text files: the simple async loop is fast enough.
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
