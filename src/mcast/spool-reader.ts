/**
 * The stream's bytes in order, read back from the spool file up to the
 * contiguous watermark: the consumer (sha-256, zstd, btrfs receive) runs
 * while blocks still arrive, at its own pace, and a slow consumer never
 * holds packets in memory. It has its own file descriptor, so it outlives
 * the receiver's.
 */
import { close, open, read } from 'node:fs';
import { Readable } from 'node:stream';

export interface SpoolSource {
  /** The spool's path once the session's size is known. */
  path(): string | undefined;
  /** Bytes readable in order now (the contiguous watermark). */
  readableBytes(): number;
  /** Makes sure the file holds what readableBytes() counts (gathered writes flushed). */
  flush(): void;
  /** The stream's size once known. */
  totalBytes(): number | undefined;
}

const CHUNK = 1 << 20;
/**
 * Reads wait until this much is contiguous (or the stream is complete): one
 * read per packet's worth of watermark would cost a thread-pool round trip
 * and a flush per packet.
 */
const MIN_CHUNK = 256 << 10;

export class SpoolReader extends Readable {
  private readonly source: SpoolSource;
  private position = 0;
  private fd: number | undefined;
  private busy = false;
  private waiting = false;

  constructor(source: SpoolSource) {
    super({ highWaterMark: 4 * CHUNK });
    this.source = source;
  }

  /** The watermark moved (or the size became known): resume a read that was waiting. */
  notify(): void {
    if (this.waiting) {
      this.waiting = false;
      this.pump();
    }
  }

  override _read(): void {
    this.pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) callback(error);
    else close(fd, () => callback(error));
  }

  private pump(): void {
    if (this.busy || this.destroyed) return;
    const total = this.source.totalBytes();
    const path = this.source.path();
    if (total === undefined || path === undefined) {
      this.waiting = true;
      return;
    }
    if (this.position >= total) {
      this.push(null);
      return;
    }
    const readable = Math.min(this.source.readableBytes(), total);
    const available = readable - this.position;
    if (available <= 0 || (available < MIN_CHUNK && readable < total)) {
      this.waiting = true;
      return;
    }
    this.source.flush();
    this.busy = true;
    const withFd = (fd: number) => {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, available));
      read(fd, buffer, 0, buffer.length, this.position, (err, n) => {
        this.busy = false;
        if (this.destroyed) return;
        if (err) return this.destroy(err);
        if (n === 0) return this.destroy(new Error(`Cannot read ${path} at ${this.position}: the spool file is shorter than its watermark`));
        this.position += n;
        if (this.push(n === buffer.length ? buffer : buffer.subarray(0, n))) this.pump();
      });
    };
    if (this.fd !== undefined) return withFd(this.fd);
    open(path, 'r', (err, fd) => {
      if (this.destroyed) {
        if (!err) close(fd, () => {});
        return;
      }
      if (err) {
        this.busy = false;
        return this.destroy(err);
      }
      this.fd = fd;
      withFd(fd);
    });
  }
}
