/**
 * Drops cached streams of versions the pool no longer holds
 * (docs/templates.md, "Streams and the cache"). `trowel template rm|gc`
 * delete versions from the pool, perhaps while `trowel serve` runs; their
 * streams would otherwise fill the disk, and a later version re-made under
 * the same name would find a stale manifest. A manifest goes when its
 * version or its parent is gone; a stream file goes when no manifest names
 * it (at once when its manifest went now; an unnamed file only once it is
 * older than a send takes to name it). Derived data only: everything
 * removed here can be made again.
 */
import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TrowelError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { isArch, LATEST } from '../pool/names.ts';
import type { VersionLookup } from './cache.ts';
import { parseManifest, type SignedManifest } from './manifest.ts';

export interface PruneOptions {
  cacheDir: string;
  pool: VersionLookup;
  log?: Logger;
  now?: () => number;
}

export interface PruneResult {
  /** Manifests removed: their version or parent is gone, or they could not be read. */
  manifests: number;
  /** Stream files removed, and their bytes. */
  files: number;
  bytes: number;
}

export const MANIFESTS_DIR = 'manifests';
/**
 * A send renames its stream file into place a moment before it writes the
 * manifest; an unnamed file younger than this may be that one.
 */
export const FRESH_STREAM_MS = 10 * 60_000;
const STREAM_FILE = /^[0-9a-f]{64}\.zst$/;
const MANIFEST_FILE = /^([0-9A-Za-z]+)\.([0-9A-Za-z]+)\.json$/;
const FULL = 'full';

/** A manifest's file name under manifests/<name>/<arch>/: `<version>.<parent or "full">.json`. */
export function manifestFileName(version: string, parent: string | null): string {
  return `${version}.${parent ?? FULL}.json`;
}

/** The version and parent a manifest's file name says, or undefined for another file (a temp one being written). */
function parseManifestFileName(file: string): { version: string; parent: string | null } | undefined {
  const m = MANIFEST_FILE.exec(file);
  return m ? { version: m[1]!, parent: m[2] === FULL ? null : m[2]! } : undefined;
}

export async function pruneStreamCache(options: PruneOptions): Promise<PruneResult> {
  const log = options.log ?? silentLogger;
  const now = options.now ?? Date.now;
  const result: PruneResult = { manifests: 0, files: 0, bytes: 0 };
  const named = new Set<string>();
  /** Files of the manifests removed now: complete streams, so no freshness guard. */
  const dropped = new Set<string>();
  const manifests = join(options.cacheDir, MANIFESTS_DIR);
  for (const name of await listDir(manifests)) {
    for (const arch of await listDir(join(manifests, name))) {
      const dir = join(manifests, name, arch);
      for (const file of await listDir(dir)) {
        const parsed = parseManifestFileName(file);
        if (!parsed) continue;
        const { version, parent } = parsed;
        const path = join(dir, file);
        const keep = await stillServed(options.pool, name, arch, version, parent, log);
        const stream = await streamOf(path);
        if (keep && stream) {
          named.add(stream);
          continue;
        }
        await rm(path, { force: true });
        if (stream) dropped.add(stream);
        result.manifests++;
        log.info('stream_manifest_pruned', { name, arch, version, parent, reason: keep ? 'unreadable' : 'version gone' });
      }
      await rmdir(dir).catch(() => {}); // only when now empty
    }
    await rmdir(join(manifests, name)).catch(() => {});
  }
  for (const file of await listDir(options.cacheDir)) {
    if (!STREAM_FILE.test(file) || named.has(file)) continue;
    const path = join(options.cacheDir, file);
    const info = await stat(path).catch(() => undefined);
    if (!info || (!dropped.has(file) && now() - info.mtimeMs < FRESH_STREAM_MS)) continue;
    await rm(path, { force: true });
    result.files++;
    result.bytes += info.size;
    log.info('stream_file_pruned', { file, bytes: info.size });
  }
  return result;
}

/**
 * Whether the pool still has the version (and the parent it starts from).
 * A name the pool refuses can never be asked for again; an I/O error keeps
 * the stream (pruning must never be why a good stream is lost).
 */
async function stillServed(pool: VersionLookup, name: string, arch: string, version: string, parent: string | null, log: Logger): Promise<boolean> {
  // The cache writes resolved versions only: a manifest named "latest" is not one of its own.
  if (!isArch(arch) || version === LATEST || parent === LATEST) return false;
  try {
    if (!(await pool.get(name, arch, version))) return false;
    return parent === null || (await pool.get(name, arch, parent)) !== undefined;
  } catch (e) {
    if (e instanceof TrowelError) return false;
    log.warn('stream_prune_lookup_failed', { name, arch, version, error: String(e) });
    return true;
  }
}

/** The stream file a manifest names ("<sha256>.zst"), or undefined when it can't be read. */
async function streamOf(path: string): Promise<string | undefined> {
  try {
    const signed = JSON.parse(await readFile(path, 'utf8')) as SignedManifest;
    return `${parseManifest(signed.manifest).sha256}.zst`;
  } catch {
    return undefined;
  }
}

async function listDir(path: string): Promise<string[]> {
  return readdir(path).catch(() => []);
}
