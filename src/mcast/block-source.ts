/**
 * Where the sender's blocks come from: the file, read a group at a time
 * (one read for 64 packets), and in tee mode only as far as it has been
 * written. Repairs read their group into the FEC codec once, since a
 * group's parity rows usually go out back to back.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { TrowelError } from '../errors.ts';
import { FecCodec } from './fec.ts';
import { blockLength, groupLength, type Layout } from './layout.ts';

/** Opens the file to send and says how big it is. */
export function openSourceFile(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new TrowelError('EMCAST_FILE', `Cannot send ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  return { fd, size: fstatSync(fd).size };
}

export class BlockSource {
  private readonly fd: number;
  private readonly file: string;
  private readonly layout: Layout;
  private readonly availableBytes: (() => number) | undefined;
  /** The group being sent, as far as it is read. */
  private readonly dataGroup: Uint8Array;
  private dataGroupIndex = -1;
  private dataGroupLoaded = 0;
  /** One block read again for a unicast repair. */
  private readonly single: Uint8Array;
  /** The group last read for repairs (staged, then in the codec). */
  private readonly repairStaging: Uint8Array;
  private repairGroupIndex = -1;
  private readonly codec: FecCodec;

  constructor(fd: number, file: string, layout: Layout, availableBytes?: () => number) {
    this.fd = fd;
    this.file = file;
    this.layout = layout;
    this.availableBytes = availableBytes;
    this.dataGroup = new Uint8Array(layout.groupSize * layout.blockSize);
    this.repairStaging = new Uint8Array(layout.groupSize * layout.blockSize);
    this.single = new Uint8Array(layout.blockSize);
    this.codec = new FecCodec(layout.groupSize, layout.blockSize);
  }

  /** Blocks that exist: all of them, or in tee mode those written completely so far. */
  availableBlocks(): number {
    if (!this.availableBytes) return this.layout.blockCount;
    const bytes = this.availableBytes();
    if (bytes >= this.layout.totalBytes) return this.layout.blockCount;
    return Math.floor(bytes / this.layout.blockSize);
  }

  /**
   * The bytes of blocks [block, block + count), one after the other (a view,
   * valid until the next call); they must be available and in one group.
   */
  dataRun(block: number, count: number): Uint8Array {
    const { groupSize, blockSize } = this.layout;
    const group = Math.floor(block / groupSize);
    if (group !== this.dataGroupIndex) {
      this.dataGroupIndex = group;
      this.dataGroupLoaded = 0;
    }
    const index = block - group * groupSize;
    const lastIndex = index + count - 1;
    if (lastIndex >= this.dataGroupLoaded) {
      // Up to the group's end, or what exists of it (tee mode).
      const end = Math.min(groupLength(this.layout, group), this.availableBlocks() - group * groupSize);
      const from = this.dataGroupLoaded * blockSize;
      const to = Math.min(end * blockSize, this.layout.totalBytes - group * groupSize * blockSize);
      this.readFully(this.dataGroup, from, to - from, group * groupSize * blockSize + from);
      this.dataGroupLoaded = end;
    }
    if (lastIndex >= this.dataGroupLoaded) throw new RangeError(`Cannot read blocks ${block}-${block + count - 1}: not all in group ${group} as far as it exists`);
    return this.dataGroup.subarray(index * blockSize, lastIndex * blockSize + blockLength(this.layout, block + count - 1));
  }

  /** Parity row `row` of group `group` (a view, valid until the next call). */
  parity(group: number, row: number): Uint8Array {
    this.loadRepairGroup(group);
    return this.codec.parity(groupLength(this.layout, group), row);
  }

  /** Block `block` read again on its own (a view, valid until the next call): a repair one receiver asked for. */
  blockAgain(block: number): Uint8Array {
    const length = blockLength(this.layout, block);
    this.readFully(this.single, 0, length, block * this.layout.blockSize);
    return this.single.subarray(0, length);
  }

  /** Block `index` of group `group` again, for a group whose parity rows are spent. */
  repairBlock(group: number, index: number): Uint8Array {
    this.loadRepairGroup(group);
    const block = group * this.layout.groupSize + index;
    return this.repairStaging.subarray(index * this.layout.blockSize, index * this.layout.blockSize + blockLength(this.layout, block));
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }

  private loadRepairGroup(group: number): void {
    if (this.repairGroupIndex === group) return;
    const { groupSize, blockSize } = this.layout;
    const start = group * groupSize * blockSize;
    const bytes = Math.min(groupSize * blockSize, this.layout.totalBytes - start);
    this.readFully(this.repairStaging, 0, bytes, start);
    const k = groupLength(this.layout, group);
    this.codec.clear(k);
    for (let i = 0; i < k; i++) this.codec.block(i).set(this.repairStaging.subarray(i * blockSize, Math.min(bytes, (i + 1) * blockSize)));
    this.repairGroupIndex = group;
  }

  private readFully(into: Uint8Array, offset: number, length: number, position: number): void {
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, into, offset + done, length - done, position + done);
      if (n === 0) throw new TrowelError('EMCAST_FILE', `Cannot read ${this.file} at ${position + done}: it is shorter than ${this.layout.totalBytes} bytes`);
      done += n;
    }
  }
}
