/**
 * The send-stream cache (docs/templates.md, "Streams and the cache"). A
 * stream is made once: `btrfs send [-p parent]`, zstd-compressed in-process,
 * hashed and counted on the way to a temp file, renamed to
 * `<cacheDir>/<sha256>.zst`, and described by a signed manifest at
 * `<cacheDir>/manifests/<name>/<arch>/<version>.<parent|full>.json`. The
 * manifest is written last, so its presence means the stream is complete.
 * Every later request is served from the file; concurrent first requests
 * for the same stream share one in-flight `btrfs send`.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TrowelError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { MetricsRegistry, type Counter } from '../metrics/registry.ts';
import { validateRef, validateVersion, type Arch, type TemplateRef } from '../pool/names.ts';
import type { TemplateVersion } from '../pool/types.ts';
import { send } from '../sys/btrfs.ts';
import { manifestFileName, MANIFESTS_DIR, pruneStreamCache } from './cache-prune.ts';
import { createZstdCompressor, ZSTD_LEVEL } from './compress.ts';
import { MANIFEST_FORMAT, parseManifest, signManifest, type Manifest, type SignedManifest } from './manifest.ts';
import type { SigningKey } from './keys.ts';

export { MANIFESTS_DIR } from './cache-prune.ts';

/** What the cache needs from the pool; TemplatePool provides it. */
export interface VersionLookup {
  get(name: string, arch: Arch, version: string): Promise<TemplateVersion | undefined>;
}

export interface StreamCacheOptions {
  cacheDir: string;
  pool: VersionLookup;
  signingKey: SigningKey;
  log?: Logger;
  metrics?: MetricsRegistry;
  /** zstd level (default ZSTD_LEVEL). */
  level?: number;
  now?: () => Date;
}

export interface CachedStream {
  /** Absolute path of the compressed stream, `<cacheDir>/<sha256>.zst`. */
  file: string;
  signed: SignedManifest;
}

const PARTIAL_PREFIX = '.partial-';

export class StreamCache {
  readonly cacheDir: string;
  private readonly pool: VersionLookup;
  private readonly key: SigningKey;
  private readonly log: Logger;
  private readonly level: number;
  private readonly now: () => Date;
  private readonly inFlight = new Map<string, Promise<CachedStream>>();
  private readonly metrics: { sends: Counter; hits: Counter; failures: Counter; sentBytes: Counter; cachedBytes: Counter };
  private swept: Promise<void> | undefined;

  constructor(options: StreamCacheOptions) {
    this.cacheDir = options.cacheDir;
    this.pool = options.pool;
    this.key = options.signingKey;
    this.log = options.log ?? silentLogger;
    this.level = options.level ?? ZSTD_LEVEL;
    this.now = options.now ?? (() => new Date());
    const m = options.metrics ?? new MetricsRegistry();
    this.metrics = {
      sends: m.counter('trowel_stream_sends_total', 'btrfs send runs that filled the stream cache, by kind (full or incremental).'),
      hits: m.counter('trowel_stream_cache_hits_total', 'Stream requests answered from an already cached stream.'),
      failures: m.counter('trowel_stream_send_failures_total', 'btrfs send runs that failed; nothing was cached.'),
      sentBytes: m.counter('trowel_stream_send_bytes_total', 'Uncompressed btrfs send bytes read into the cache.'),
      cachedBytes: m.counter('trowel_stream_cached_bytes_total', 'Compressed bytes written to the stream cache.'),
    };
  }

  /** The public half of the signing key, as clients pin it. */
  get publicKey(): KeyObject {
    return this.key.publicKey;
  }

  get keyId(): string {
    return this.key.keyId;
  }

  /** Where the signed manifest of this stream lives (whether or not it exists yet). */
  manifestPath(ref: TemplateRef, parent: string | null): string {
    return join(this.cacheDir, MANIFESTS_DIR, ref.name, ref.arch, manifestFileName(ref.version, parent));
  }

  /**
   * The cached stream of `ref` (incremental from `parent`, or full when
   * null), made now if it isn't cached. Throws TrowelError ENOVERSION or
   * ENOPARENT for a version the pool lacks, and the btrfs CommandError when
   * the send fails (nothing is left behind).
   */
  async ensure(ref: TemplateRef, parent: string | null): Promise<CachedStream> {
    // Names become paths below: check them even though the HTTP routes already did.
    const checked = validateRef(ref);
    if (parent !== null) validateVersion(parent);
    const key = this.manifestPath(checked, parent);
    const running = this.inFlight.get(key);
    if (running) return running;
    const work = this.lookupOrMake(checked, parent).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  /** @private */
  private async lookupOrMake(ref: TemplateRef, parent: string | null): Promise<CachedStream> {
    await (this.swept ??= this.sweep());
    // The pool first, even for a cached stream: a version removed while we run must not be served from the cache.
    const version = await this.pool.get(ref.name, ref.arch, ref.version);
    if (!version) {
      throw new TrowelError('ENOVERSION', `Cannot make the stream: ${ref.name} ${ref.arch} has no version ${ref.version}`);
    }
    let parentPath: string | undefined;
    if (parent !== null) {
      const base = parent === ref.version ? undefined : await this.pool.get(ref.name, ref.arch, parent);
      if (!base) throw new TrowelError('ENOPARENT', `Cannot make an incremental stream of ${ref.name} ${ref.arch} ${ref.version}: there is no other version ${parent} to start from`);
      parentPath = base.path;
    }
    const cached = await this.readCached(ref, parent);
    if (cached) {
      this.metrics.hits.inc();
      return cached;
    }
    try {
      return await this.make(ref, parent, version.path, parentPath);
    } catch (e) {
      throw this.outOfSpace(e, ref) ?? e;
    }
  }

  /**
   * @private A full disk under the cache as the operator's problem it is
   * (ECACHEFULL), not an internal error; anything else: undefined.
   */
  private outOfSpace(e: unknown, ref: TemplateRef): TrowelError | undefined {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
    return new TrowelError('ECACHEFULL', `Cannot cache the stream of ${ref.name} ${ref.arch} ${ref.version}: no space left in ${this.cacheDir}`, {
      hint: 'free space there, or remove old versions with trowel template gc --keep N, which drops their cached streams too',
      cause: e,
    });
  }

  /** @private A manifest whose stream file exists with the promised size; re-signed when the key was rotated. */
  private async readCached(ref: TemplateRef, parent: string | null): Promise<CachedStream | undefined> {
    const path = this.manifestPath(ref, parent);
    let signed: SignedManifest;
    try {
      signed = JSON.parse(await readFile(path, 'utf8')) as SignedManifest;
      const manifest = parseManifest(signed.manifest);
      if (manifest.name !== ref.name || manifest.arch !== ref.arch || manifest.version !== ref.version || manifest.parent !== parent) {
        throw new Error('it describes another stream');
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('manifest_unreadable', { path, error: String(e) });
      return undefined;
    }
    const file = join(this.cacheDir, `${signed.manifest.sha256}.zst`);
    const size = await stat(file).then((s) => s.size, () => -1);
    if (size !== signed.manifest.compressedSize) {
      this.log.warn('stream_file_missing', { path: file, expected: signed.manifest.compressedSize, found: size });
      return undefined;
    }
    if (signed.keyId !== this.key.keyId) {
      // The bytes are still right; only the signature must follow the rotated key.
      signed = signManifest(signed.manifest, this.key);
      await writeAtomically(path, JSON.stringify(signed, null, 2) + '\n');
      this.log.info('manifest_resigned', { name: ref.name, arch: ref.arch, version: ref.version, parent, keyId: this.key.keyId });
    }
    return { file, signed };
  }

  /** @private btrfs send -> count -> zstd -> hash + count -> temp file -> rename -> manifest. */
  private async make(ref: TemplateRef, parent: string | null, path: string, parentPath: string | undefined): Promise<CachedStream> {
    const started = performance.now();
    await mkdir(this.cacheDir, { recursive: true });
    const temp = join(this.cacheDir, `${PARTIAL_PREFIX}${randomBytes(8).toString('hex')}.zst`);
    const sender = send(path, parentPath ? { parent: parentPath } : {});
    const uncompressed = counter();
    const hash = createHash('sha256');
    const compressed = counter((chunk) => hash.update(chunk));
    const kind = parent === null ? 'full' : 'incremental';
    this.log.info('stream_send_started', { name: ref.name, arch: ref.arch, version: ref.version, parent });
    try {
      await Promise.all([
        // flush: fsync before close, so the rename below never publishes a file a crash could empty.
        pipeline(sender.child.stdout, uncompressed, createZstdCompressor(this.level), compressed, createWriteStream(temp, { flags: 'wx', mode: 0o644, flush: true })),
        sender.done,
      ]);
    } catch (e) {
      sender.child.kill('SIGKILL');
      await sender.done.catch(() => {});
      await rm(temp, { force: true });
      this.metrics.failures.inc({ kind });
      this.log.error('stream_send_failed', { name: ref.name, arch: ref.arch, version: ref.version, parent, error: String(e) });
      throw e;
    }
    const sha256 = hash.digest('hex');
    const file = join(this.cacheDir, `${sha256}.zst`);
    try {
      await rename(temp, file);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      name: ref.name,
      arch: ref.arch,
      version: ref.version,
      parent,
      compression: 'zstd',
      uncompressedSize: uncompressed.bytes,
      compressedSize: compressed.bytes,
      sha256,
      createdAt: this.now().toISOString(),
    };
    const signed = signManifest(manifest, this.key);
    try {
      await writeAtomically(this.manifestPath(ref, parent), JSON.stringify(signed, null, 2) + '\n');
    } catch (e) {
      // Without its manifest the file would be an orphan until pruned: it goes now.
      await rm(file, { force: true });
      throw e;
    }
    this.metrics.sends.inc({ kind });
    this.metrics.sentBytes.inc({}, uncompressed.bytes);
    this.metrics.cachedBytes.inc({}, compressed.bytes);
    const seconds = (performance.now() - started) / 1000;
    this.log.info('stream_cached', {
      name: ref.name, arch: ref.arch, version: ref.version, parent, sha256,
      uncompressedSize: uncompressed.bytes, compressedSize: compressed.bytes,
      seconds: Number(seconds.toFixed(3)), mbPerSecond: Number((uncompressed.bytes / 1e6 / Math.max(seconds, 1e-3)).toFixed(1)),
    });
    return { file, signed };
  }

  /**
   * @private Once per process, before the first stream: partial files (left
   * only by a crash mid-send; nothing can still be writing them), then the
   * streams of versions removed while the server was down.
   */
  private async sweep(): Promise<void> {
    const names = await readdir(this.cacheDir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith(PARTIAL_PREFIX))) {
      await rm(join(this.cacheDir, name), { force: true });
      this.log.info('partial_stream_removed', { file: name });
    }
    const pruned = await pruneStreamCache({ cacheDir: this.cacheDir, pool: this.pool, log: this.log });
    if (pruned.manifests + pruned.files > 0) this.log.info('stream_cache_pruned', { ...pruned });
  }
}

/** @private A pass-through transform that counts bytes and shows each chunk to `see`. */
function counter(see?: (chunk: Buffer) => void): Transform & { bytes: number } {
  const t = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      t.bytes += chunk.length;
      see?.(chunk);
      done(null, chunk);
    },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

/** @private */
async function writeAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temp, content, { flag: 'wx', mode: 0o644, flush: true });
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}
