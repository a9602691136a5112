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
