/**
 * The disk's own write rate, for `trowel.bench=dd`: `sync` first (so what
 * an earlier step left in the page cache is not billed to dd, and its flush
 * time can be billed to that step), then `dd` of zeros into a file with
 * conv=fsync (its data is on the disk when dd exits), then the file is
 * removed. Zeros cost the CPU nothing to produce, so dd measures the disk
 * and the filesystem, not a generator.
 */
import { rm } from 'node:fs/promises';
import { run } from './run.ts';

const BLOCK = 4 * 1024 * 1024;

export interface DiskWrite {
  /** How long the leading `sync` took. */
  syncMs: number;
  bytes: number;
  ddMs: number;
}

export async function measureDiskWrite(file: string, bytes: number): Promise<DiskWrite> {
  const t0 = performance.now();
  await run('sync', []);
  const t1 = performance.now();
  const blocks = Math.max(1, Math.ceil(bytes / BLOCK));
  try {
    await run('dd', ['if=/dev/zero', `of=${file}`, `bs=${BLOCK}`, `count=${blocks}`, 'conv=fsync']);
    const t2 = performance.now();
    return { syncMs: t1 - t0, bytes: blocks * BLOCK, ddMs: t2 - t1 };
  } finally {
    await rm(file, { force: true });
    await run('sync', []);
  }
}

/**
 * A receive's write rate (stream bytes unpacked into the pool per second,
 * with the flush of what it left in the page cache) against dd's, in one
 * line (the `bench` step's message; bench/lib/provision-report.ts reads it).
 */
export function describeWriteStage(receive: { bytes: number; ms: number }, w: DiskWrite): string {
  const mbps = (bytes: number, ms: number) => (bytes / 1e6) / (ms / 1000);
  const receiveMs = receive.ms + w.syncMs;
  const receiveRate = mbps(receive.bytes, receiveMs);
  const ddRate = mbps(w.bytes, w.ddMs);
  return `receive wrote ${receive.bytes} bytes in ${(receiveMs / 1000).toFixed(1)} s (${receiveRate.toFixed(1)} MB/s, ` +
    `flush ${(w.syncMs / 1000).toFixed(1)} s); dd wrote ${w.bytes} bytes in ${(w.ddMs / 1000).toFixed(1)} s (${ddRate.toFixed(1)} MB/s); ratio ${(receiveRate / ddRate).toFixed(2)}`;
}
