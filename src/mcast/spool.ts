/**
 * The receiver's spool file: blocks are written at their offsets, so memory
 * stays bounded whatever the stream's size, and the stream is read back in
 * order by {@link SpoolReader} while the session runs. Blocks mostly arrive
 * in order, so consecutive ones are gathered into one write (one syscall per
 * ~1 MiB instead of per packet). Writes are synchronous: they go to the page
 * cache, and a receiver that can't keep up loses packets that repairs bring
 * back, rather than piling up buffers in memory.
 */
import { closeSync, openSync, readSync, writeSync, ftruncateSync } from 'node:fs';

const GATHER_BYTES = 1 << 20;

export class Spool {
  readonly path: string;
  private fd: number | undefined;
  private readonly gather = Buffer.allocUnsafe(GATHER_BYTES);
  private gatherStart = 0;
  private gatherLength = 0;

  constructor(path: string, totalBytes: number) {
    this.path = path;
    this.fd = openSync(path, 'w+');
    ftruncateSync(this.fd, totalBytes);
  }

  /**
   * Writes source[start, end) at `offset`, gathered with the previous write
   * when it follows it (the packet's payload is copied straight from it).
   */
  write(offset: number, source: Buffer, start = 0, end = source.length): void {
    const length = end - start;
    if (this.gatherLength > 0 && (offset !== this.gatherStart + this.gatherLength || this.gatherLength + length > GATHER_BYTES)) this.flush();
    if (length > GATHER_BYTES) {
      this.writeAt(offset, source.subarray(start, end));
      return;
    }
    if (this.gatherLength === 0) this.gatherStart = offset;
    source.copy(this.gather, this.gatherLength, start, end);
    this.gatherLength += length;
  }

  /** Writes at once, bypassing the gather buffer (rebuilt and fetched blocks). */
  writeAt(offset: number, data: Uint8Array): void {
    if (this.gatherLength > 0 && offset < this.gatherStart + this.gatherLength && offset + data.length > this.gatherStart) this.flush();
    let done = 0;
    while (done < data.length) done += writeSync(this.openFd(), data, done, data.length - done, offset + done);
  }

  /** Puts gathered blocks into the file, so reads see them. */
  flush(): void {
    if (this.gatherLength === 0) return;
    const length = this.gatherLength;
    this.gatherLength = 0;
    let done = 0;
    while (done < length) done += writeSync(this.openFd(), this.gather, done, length - done, this.gatherStart + done);
  }

  /** Reads [offset, offset + length) into `into` (after a flush); short at the end of the file. */
  readInto(offset: number, into: Uint8Array, length: number): number {
    this.flush();
    let done = 0;
    while (done < length) {
      const n = readSync(this.openFd(), into, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error(`Cannot write ${this.path}: spool closed`);
    return this.fd;
  }
}
