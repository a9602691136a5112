/**
 * Maps the raw (still percent-encoded) tail of a /boot/files/ URL to a real
 * file inside the root, or says why it can't. The URL parser already folds
 * plain and `%2e%2e` dot segments, but `..%2f` survives it and decodes to a
 * traversal, so the decoded path is checked again here; then the real path
 * (symlinks resolved) must still lie inside the real root, which stops a
 * symlink that points out of the root.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';

export type ResolvedPath =
  | { ok: true; path: string }
  /** `bad_encoding`: malformed %-escape; `traversal`: `..` or NUL; `outside_root`: a symlink leads out; `not_found`: nothing there. */
  | { ok: false; reason: 'bad_encoding' | 'traversal' | 'outside_root' | 'not_found' };

export async function resolveInsideRoot(root: string, rawPath: string): Promise<ResolvedPath> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { ok: false, reason: 'bad_encoding' };
  }
  const segments = decoded.split('/');
  if (decoded.includes('\0') || segments.includes('..')) return { ok: false, reason: 'traversal' };
  const candidate = join(root, ...segments);
  const rel = relative(root, candidate);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return { ok: false, reason: 'traversal' };

  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(candidate);
  } catch {
    // ENOENT, ENOTDIR, ELOOP, EACCES: there is nothing we may serve at this path.
    return { ok: false, reason: 'not_found' };
  }
  if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
    return { ok: false, reason: 'outside_root' };
  }
  return { ok: true, path: real };
}
