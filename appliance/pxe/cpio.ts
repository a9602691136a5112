/**
 * A writer for the cpio "newc" format the kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst; cpio(5)).
 *
 * Why our own writer rather than GNU cpio: the archive needs a /dev/console
 * character device (so the kernel can open the console before /init runs),
 * root ownership and fixed timestamps, and none of that should need root or
 * mknod on the build host. Every entry is owned by 0:0.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { TrowelError } from '../../src/errors.ts';
import { ByteWriter } from '../../src/wire/index.ts';

/** File type bits of st_mode (inode(7)). */
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

export type CpioEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; size: number; source: string }
  | { type: 'file'; path: string; mode: number; data: Buffer }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'chardev'; path: string; mode: number; major: number; minor: number };

/** Fields of one newc header; every number is written as 8 hex digits. */
export interface NewcHeader {
  ino: number;
  mode: number;
  nlink: number;
  mtime: number;
  fileSize: number;
  rdevMajor: number;
  rdevMinor: number;
  name: string;
}

const MAGIC = '070701';
/** The last entry of every archive (the kernel stops at this name). */
export const TRAILER = 'TRAILER!!!';
/** newc: 6-byte magic + 13 fields of 8 hex digits. */
const HEADER_SIZE = 110;

const pad4 = (n: number) => (4 - (n % 4)) % 4;

/**
 * One header with its NUL-terminated name, padded so the file data that
 * follows starts on a 4-byte boundary (pure).
 */
export function encodeNewcHeader(h: NewcHeader): Buffer {
  const name = Buffer.from(h.name + '\0', 'utf8');
  const fields = [h.ino, h.mode, 0, 0, h.nlink, h.mtime, h.fileSize, 0, 0, h.rdevMajor, h.rdevMinor, name.length, 0];
  for (const v of fields) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(`Cannot write cpio header for "${h.name}": field value ${v} does not fit 32 bits`);
    }
  }
  const hex = fields.map((v) => v.toString(16).padStart(8, '0')).join('');
  return new ByteWriter(HEADER_SIZE + name.length + 3)
    .bytes(Buffer.from(MAGIC + hex, 'latin1'))
    .bytes(name)
    .zeros(pad4(HEADER_SIZE + name.length))
    .toBuffer();
}

/** The header for `entry` as the `ino`-th inode (pure). */
export function headerFor(entry: CpioEntry, ino: number, mtime: number): NewcHeader {
  const base = { ino, mtime, name: entry.path, rdevMajor: 0, rdevMinor: 0 };
  switch (entry.type) {
    case 'dir':
      return { ...base, mode: S_IFDIR | entry.mode, nlink: 2, fileSize: 0 };
    case 'file':
      return { ...base, mode: S_IFREG | entry.mode, nlink: 1, fileSize: 'data' in entry ? entry.data.length : entry.size };
    case 'symlink':
      return { ...base, mode: S_IFLNK | 0o777, nlink: 1, fileSize: Buffer.byteLength(entry.target) };
    case 'chardev':
      return { ...base, mode: S_IFCHR | entry.mode, nlink: 1, fileSize: 0, rdevMajor: entry.major, rdevMinor: entry.minor };
  }
}

/**
 * Writes `entries` (parents before children, paths relative without a
 * leading "/") and the trailer to `out`, streaming file contents from disk.
 * Returns the archive size in bytes.
 */
export async function writeCpio(entries: readonly CpioEntry[], out: Writable, mtime = 0): Promise<number> {
  let written = 0;
  const put = async (b: Buffer) => {
    written += b.length;
    if (!out.write(b)) await once(out, 'drain');
  };
  let ino = 0;
  for (const entry of entries) {
    if (entry.path.startsWith('/') || entry.path === '' || entry.path === TRAILER) {
      throw new TrowelError('ECPIO', `Cannot add "${entry.path}" to the initramfs: give a relative path`);
    }
    ino += 1;
    const header = headerFor(entry, ino, mtime);
    await put(encodeNewcHeader(header));
    if (entry.type === 'symlink') await put(Buffer.from(entry.target, 'utf8'));
    else if (entry.type === 'file' && 'data' in entry) await put(entry.data);
    else if (entry.type === 'file') await copyExactly(entry.source, entry.size, put);
    await put(Buffer.alloc(pad4(header.fileSize)));
  }
  await put(encodeNewcHeader({ ino: 0, mode: 0, nlink: 1, mtime: 0, fileSize: 0, rdevMajor: 0, rdevMinor: 0, name: TRAILER }));
  return written;
}

/** Writes an archive to a file (see writeCpio). */
export async function writeCpioFile(entries: readonly CpioEntry[], file: string, mtime = 0): Promise<number> {
  const out = createWriteStream(file);
  try {
    const size = await writeCpio(entries, out, mtime);
    out.end();
    await once(out, 'close');
    return size;
  } catch (e) {
    out.destroy();
    throw e;
  }
}

/** Streams `source` into the archive; a size that changed since the header was written would corrupt it. */
async function copyExactly(source: string, size: number, put: (b: Buffer) => Promise<void>): Promise<void> {
  let copied = 0;
  for await (const chunk of createReadStream(source)) {
    copied += (chunk as Buffer).length;
    await put(chunk as Buffer);
  }
  if (copied !== size) {
    throw new TrowelError('ECPIO', `Cannot add ${source} to the initramfs: it changed size while being packed (${size} → ${copied} bytes)`);
  }
}
