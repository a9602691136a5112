/**
 * Turning a requested filename into a file inside the TFTP root. A client
 * must never read outside the root: not with `..`, not with an absolute
 * path, not through a symlink whose target lies outside.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { TrowelError } from '../errors.ts';
import { ErrorCode } from './codec.ts';
import { FileSource } from './source.ts';

/** A request the server refuses, with the TFTP error code and message to answer. */
export class TftpRefusal extends TrowelError {
  readonly tftpCode: number;

  constructor(tftpCode: number, message: string) {
    super('ETFTP', message);
    this.tftpCode = tftpCode;
  }
}

/**
 * The requested name as a path relative to the root, with `/` separators,
 * no leading `/`, no empty or `.` segments. Conveniences: a leading `/` is
 * stripped (GRUB and some PXE ROMs ask for `/boot/...`, pxelinux for
 * `/pxelinux.cfg/...` when its prefix ends in `/`), and `\` counts as `/`
 * (Windows boot loaders use it). A `..` that stays inside the root is
 * resolved; one that would climb out of it is refused.
 */
export function normalizeRequestPath(requested: string): string {
  if (requested.includes('\0')) throw new TftpRefusal(ErrorCode.ACCESS_VIOLATION, `Cannot read ${JSON.stringify(requested)}: NUL byte in the filename`);
  const segments: string[] = [];
  for (const segment of requested.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.length === 0) throw new TftpRefusal(ErrorCode.ACCESS_VIOLATION, `Cannot read ${JSON.stringify(requested)}: the path leaves the TFTP root`);
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  if (segments.length === 0) throw new TftpRefusal(ErrorCode.FILE_NOT_FOUND, `Cannot read ${JSON.stringify(requested)}: not a file name`);
  return segments.join('/');
}

function notFound(relative: string): TftpRefusal {
  return new TftpRefusal(ErrorCode.FILE_NOT_FOUND, `Cannot read ${relative}: file not found`);
}

/**
 * Opens `relative` (from {@link normalizeRequestPath}) under `realRoot` (the
 * root's own realpath). Symlinks inside the root are followed as long as the
 * final target stays inside; the file is then opened by its real path with
 * O_NOFOLLOW so a link swapped in afterwards is not followed, and with
 * O_NONBLOCK so a FIFO in the root cannot hang the open (it is then refused
 * as not a regular file).
 */
export async function openInRoot(realRoot: string, relative: string, maxRead: number): Promise<FileSource> {
  let real: string;
  try {
    real = await realpath(`${realRoot}${sep}${relative}`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new TftpRefusal(ErrorCode.ACCESS_VIOLATION, `Cannot read ${relative}: permission denied`);
    throw notFound(relative);
  }
  if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
    throw new TftpRefusal(ErrorCode.ACCESS_VIOLATION, `Cannot read ${relative}: it resolves outside the TFTP root`);
  }
  let handle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'ELOOP') throw new TftpRefusal(ErrorCode.ACCESS_VIOLATION, `Cannot read ${relative}: permission denied`);
    throw notFound(relative);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notFound(relative);
    return new FileSource(handle, stats.size, maxRead);
  } catch (e) {
    await handle.close();
    throw e;
  }
}
