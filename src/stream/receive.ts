/**
 * Receives one template version from a trowel server into a btrfs
 * directory (docs/templates.md, "Receiving"): fetch the signed manifest and
 * verify it against the pinned key before a byte of the stream is asked
 * for; stream the body (resumable) through a sha-256 tap, zstd and the
 * send-stream guard into `btrfs receive -e`; then compare digest and sizes
 * with the manifest. The stream lands under a hidden staging name
 * (receive-staging.ts) and is renamed to its template name only once
 * verified; anything wrong deletes it. So the only subvolume a receive
 * leaves behind is a complete, verified, read-only one.
 *
 * The compressed body comes over HTTP unless `body` hands in another
 * source (multicast, tee: src/mcast-client/); whatever brings the bytes,
 * they pass the same sha-256 tap and size checks against the signed
 * manifest before the subvolume is kept.
 */
import type { KeyObject } from 'node:crypto';
import { lstat, readdir, rename, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TrowelError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { LATEST, subvolumeName, validateArch, validateName, validateVersion, type TemplateRef } from '../pool/names.ts';
import { deleteSubvolume, isSubvolume, receive, showSubvolume } from '../sys/btrfs.ts';
import { CommandError } from '../sys/run.ts';
import { decompressInto, hasZstd, isBrokenPipeExit } from '../sys/zstd.ts';
import { createZstdDecompressor } from './compress.ts';
import { verifyManifest, type Manifest } from './manifest.ts';
import { ProgressMeter, type ProgressSnapshot } from './progress.ts';
import { removeStaleStaging, stagingName } from './receive-staging.ts';
import { resumableFetch, type ResumableFetchOptions, type RetryInfo } from './resumable-fetch.ts';
import { createSendStreamGuard, SendStreamScanner, type SendStreamExpectation } from './send-stream-guard.ts';
import { describeRef, TemplateApi } from './template-api.ts';
import { ByteTap, streamMismatch } from './verify-stream.ts';

export interface ReceiveOptions {
  /** Base URL of the trowel server, e.g. http://10.0.0.1:8080. */
  server: string;
  name: string;
  arch: string;
  /** A version, or `latest`. */
  version: string;
  /** Receive incrementally from this version, which must already be in `intoDir`. */
  parent?: string | null;
  /** A directory on a btrfs filesystem (a pool root, or a target's top level). */
  intoDir: string;
  /** The pinned server key. */
  publicKey: KeyObject;
  /** Called once the manifest is verified, before the download starts (it names the version `latest` stands for). */
  onManifest?: (manifest: Manifest) => void;
  /** Bytes of the compressed stream received so far, with rate and ETA. */
  onProgress?: (progress: ProgressSnapshot) => void;
  onRetry?: (info: RetryInfo) => void;
  log?: Logger;
  signal?: AbortSignal;
  /** Retry, backoff, timeouts and dispatcher of the stream download. */
  fetch?: Pick<ResumableFetchOptions, 'retries' | 'backoff' | 'headersTimeoutMs' | 'bodyTimeoutMs' | 'dispatcher'>;
  /** Where the compressed body comes from (default: the resumable HTTP download). Called once the manifest is verified. */
  body?: (context: BodyContext) => Promise<BodySource>;
}

/** What a body source knows when it is asked for the stream. */
export interface BodyContext {
  /** The verified manifest: size and digest the bytes must match. */
  manifest: Manifest;
  ref: TemplateRef;
  parent: string | null;
  /** The stream's URL on the server (for Range requests). */
  streamUrl: string;
  intoDir: string;
  /** The default source: the resumable HTTP download, with progress and retries reported as usual. */
  http(): Readable;
  /** Reports how many compressed bytes arrived so far. */
  progress(bytes: number): void;
  log: Logger;
  signal?: AbortSignal;
}

/** The compressed stream's bytes in order, and what else the transport must finish before the subvolume is kept. */
export interface BodySource {
  stream: Readable;
  /** Settles when the transport is finished (e.g. a multicast session's end); a rejection fails the receive. */
  done?: Promise<unknown>;
  /** Runs after the receive, however it ended (removes spool files). */
  cleanup?: () => Promise<void>;
}

export interface ReceivedTemplate {
  ref: TemplateRef;
  parent: string | null;
  /** The received read-only subvolume. */
  path: string;
  manifest: Manifest;
  /** Retries the download needed. */
  retries: number;
  elapsedMs: number;
}

export async function receiveTemplate(options: ReceiveOptions): Promise<ReceivedTemplate> {
  const log = options.log ?? silentLogger;
  const started = performance.now();
  // Everything that becomes part of a path or URL is checked before use.
  const name = validateName(options.name);
  const arch = validateArch(options.arch);
  const requested = options.version === LATEST ? LATEST : validateVersion(options.version);
  const parent = options.parent == null ? null : validateVersion(options.parent);
  let label = describeRef({ name, arch, version: requested }, parent);
  const fail = (e: unknown, after: string): TrowelError => {
    const err = e instanceof TrowelError ? e : undefined;
    return new TrowelError(err?.code ?? 'ERECEIVE', `Cannot receive ${label}: ${reasonOf(e)}; ${after}`, { hint: err?.hint, cause: e });
  };

  const api = new TemplateApi(options.server, { dispatcher: options.fetch?.dispatcher });
  let manifest: Manifest;
  try {
    await requireDirectory(options.intoDir);
    manifest = verifyManifest(await api.fetchManifest({ name, arch, version: requested }, parent), options.publicKey);
    checkManifestIsFor(manifest, { name, arch, version: requested, parent });
  } catch (e) {
    throw fail(e, 'nothing was downloaded');
  }
  const ref: TemplateRef = { name, arch, version: manifest.version };
  label = describeRef(ref, parent);
  const subvolume = subvolumeName(ref);
  const target = join(options.intoDir, subvolume);
  try {
    await removeStaleStaging(options.intoDir, log);
    await requireAbsent(target);
    if (parent !== null) await requireParent(options.intoDir, { name, arch, version: parent });
  } catch (e) {
    throw fail(e, 'nothing was downloaded');
  }

  options.onManifest?.(manifest);
  const staging = join(options.intoDir, stagingName());
  log.info('receive_start', { name, arch, version: ref.version, parent, bytes: manifest.compressedSize, into: options.intoDir });
  let retries = 0;
  try {
    await transfer(options, api, manifest, { ref, parent, subvolume, staging: basename(staging), log, onRetry: () => (retries += 1) });
    const received = await showSubvolume(staging);
    if (!received.receivedUuid || !received.readonly) throw new TrowelError('ERECEIVE', 'btrfs receive did not finish the subvolume');
    await requireAbsent(target);
    await rename(staging, target);
  } catch (e) {
    await removeIfPresent(staging, log);
    log.warn('receive_failed', { name, arch, version: ref.version, parent, reason: reasonOf(e) });
    throw fail(e, 'nothing was kept');
  }
  const elapsedMs = Math.round(performance.now() - started);
  log.info('receive_done', { name, arch, version: ref.version, parent, path: target, bytes: manifest.compressedSize, retries, ms: elapsedMs });
  return { ref, parent, path: target, manifest, retries, elapsedMs };
}

/**
 * @private Download -> sha-256 tap -> zstd -> size tap -> guard -> btrfs receive.
 * Resolves when every byte arrived, btrfs receive exited 0 and the
 * measurements match the manifest.
 */
async function transfer(
  options: ReceiveOptions,
  api: TemplateApi,
  manifest: Manifest,
  context: { ref: TemplateRef; parent: string | null; subvolume: string; staging: string; log: Logger; onRetry: () => void },
): Promise<void> {
  const meter = new ProgressMeter({ total: manifest.compressedSize });
  const streamUrl = api.streamUrl(context.ref, context.parent);
  const http = () => resumableFetch(streamUrl, {
    ...options.fetch,
    expectedSize: manifest.compressedSize,
    etag: `"${manifest.sha256}"`,
    signal: options.signal,
    log: context.log,
    onProgress: (received) => options.onProgress?.(meter.update(received)),
    onRetry: (info) => {
      context.onRetry();
      options.onRetry?.(info);
    },
  });
  const body: BodySource = options.body
    ? await options.body({
      manifest, ref: context.ref, parent: context.parent, streamUrl, intoDir: options.intoDir, http,
      progress: (bytes) => options.onProgress?.(meter.update(bytes)), log: context.log, signal: options.signal,
    })
    : { stream: http() };
  try {
    await receiveBody(options, manifest, context, body);
  } finally {
    await body.cleanup?.().catch((e: unknown) => context.log.warn('body_cleanup_failed', { error: reasonOf(e) }));
  }
}

/** @private The body -> sha-256 tap -> zstd -> guard -> btrfs receive; then the transport's own end. */
async function receiveBody(
  options: ReceiveOptions,
  manifest: Manifest,
  context: { subvolume: string; staging: string; parent: string | null },
  body: BodySource,
): Promise<void> {
  const source = body.stream;
  // A transport that fails while its stream waits for bytes must end the stream, or the pipeline waits forever.
  const transportDone = (body.done ?? Promise.resolve()).then(() => undefined, (e: unknown) => {
    source.destroy(e as Error);
    return e;
  });
  const expected = { subvolume: context.subvolume, incremental: context.parent !== null, renameTo: context.staging };
  const compressed = new ByteTap({ hash: true });
  // What was there before, so a refused stream's cleanup never deletes a subvolume it only tried to create over.
  const before = new Set(await readdir(options.intoDir));
  const receiver = receive(options.intoDir);
  const created = subvolumesCreated(receiver.child.stderr);
  const received = receiver.done.then(() => undefined, (e: unknown) => e);
  const run = (await hasZstd()) ? pipeThroughZstd(source, compressed, receiver.child.stdin, expected) : pipeThroughZlib(source, compressed, receiver.child.stdin, expected);
  const { pipeError, decompressError } = await run;
  if ((pipeError !== undefined || decompressError !== undefined) && receiver.child.exitCode === null && receiver.child.signalCode === null) {
    receiver.child.kill('SIGTERM');
  }
  const receiveError = await received;
  // The guard checks the whole stream only on the node:zlib path; on the zstd path, btrfs receive names what it created.
  const others = created.filter((name) => name !== context.staging);
  if (others.length > 0) await removeCreated(options.intoDir, others.filter((name) => !before.has(name)));
  const transportError = pipeError === undefined && receiveError === undefined && decompressError === undefined ? await transportDone : undefined;
  // A broken pipe into zstd or btrfs receive is explained by their own failure; any other stream error explains theirs.
  if (pipeError !== undefined && !isBrokenPipe(pipeError)) throw pipeError;
  if (decompressError !== undefined && !isBrokenPipeExit(decompressError)) throw decompressError;
  if (receiveError !== undefined) throw receiveError;
  if (pipeError !== undefined) throw pipeError;
  if (decompressError !== undefined) throw decompressError;
  if (transportError !== undefined) throw transportError;
  if (others.length > 0) {
    throw new TrowelError('EBADSTREAM', `Cannot accept the btrfs send stream: it creates a second subvolume (${JSON.stringify(others[0])})`);
  }
  const mismatch = streamMismatch(manifest, {
    compressedBytes: compressed.bytes,
    compressedSha256: compressed.sha256(),
    uncompressedBytes: (await run).uncompressedBytes,
  });
  if (mismatch) throw new TrowelError(mismatch.startsWith('sha-256') ? 'EDIGEST' : 'ESIZE', `Cannot keep the stream: ${mismatch}`);
}

/** @private How a decompressing pipeline ended: each error, or the decompressed size. */
interface Piped {
  pipeError: unknown;
  decompressError: unknown;
  uncompressedBytes: number;
}

/** @private In-process: tap -> node:zlib -> size tap -> guard -> btrfs receive's stdin (when there is no zstd command). */
async function pipeThroughZlib(source: Readable, compressed: ByteTap, into: Writable, expected: SendStreamExpectation): Promise<Piped> {
  const uncompressed = new ByteTap();
  const pipeError = await pipeline(source, compressed, createZstdDecompressor(), uncompressed, createSendStreamGuard(expected), into)
    .then(() => undefined, (e: unknown) => e);
  return { pipeError, decompressError: undefined, uncompressedBytes: uncompressed.bytes };
}

/**
 * @private The first bytes are decompressed here, and the stream header and
 * first command checked and renamed (the guard's scanner) and written to
 * btrfs receive; then `zstd -dc` decompresses the whole stream again from
 * its first byte, and its output, minus what was already written, goes
 * from child to child into btrfs receive: the decompressed bytes never
 * enter this process.
 */
async function pipeThroughZstd(source: Readable, compressed: ByteTap, into: Writable, expected: SendStreamExpectation): Promise<Piped> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head: { compressed: Buffer[]; prefix: Buffer[]; skip: number };
  try {
    head = await readPrefix(chunks, expected);
    await new Promise<void>((resolve, reject) => into.write(Buffer.concat(head.prefix), (e) => (e ? reject(e) : resolve())));
  } catch (e) {
    source.destroy();
    return { pipeError: e, decompressError: undefined, uncompressedBytes: 0 };
  }
  const zstd = decompressInto(into, head.skip);
  const decompressed = zstd.done.then((bytes) => ({ bytes, error: undefined as unknown }), (e: unknown) => ({ bytes: 0, error: e }));
  async function* all(): AsyncGenerator<Buffer> {
    yield* head.compressed;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  const pipeError = await pipeline(Readable.from(all(), { objectMode: false }), compressed, zstd.stdin).then(() => undefined, (e: unknown) => e);
  if (pipeError !== undefined) {
    source.destroy();
    zstd.kill();
  }
  const { bytes, error } = await decompressed;
  return { pipeError, decompressError: error, uncompressedBytes: bytes };
}

/**
 * @private Reads compressed chunks until the send stream's header and first
 * command have been decompressed and checked: returns those chunks, the
 * checked (renamed) prefix to write first, and how many decompressed bytes
 * it replaces.
 */
async function readPrefix(chunks: AsyncIterator<Buffer>, expected: SendStreamExpectation): Promise<{ compressed: Buffer[]; prefix: Buffer[]; skip: number }> {
  // Two scanners over the same bytes: one renames the first command, the other gives its original length.
  const renaming = new SendStreamScanner(expected);
  const measuring = new SendStreamScanner({ ...expected, renameTo: undefined });
  const inflate = createZstdDecompressor();
  const compressed: Buffer[] = [];
  let found: { prefix: Buffer[]; skip: number } | undefined;
  let rejectFailed: (e: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => {}); // also raced below; a failure after the prefix was found does not matter
  inflate.once('error', rejectFailed);
  inflate.on('data', (chunk: Buffer) => {
    if (found) return;
    try {
      const renamed = renaming.push(chunk);
      const original = measuring.push(chunk);
      if (renamed.length >= 2 && original.length >= 2) found = { prefix: renamed.slice(0, 2), skip: original[0]!.length + original[1]!.length };
    } catch (e) {
      rejectFailed(e);
    }
  });
  try {
    while (!found) {
      const next = await chunks.next();
      if (next.done) {
        inflate.end();
        await Promise.race([new Promise((resolve) => inflate.once('end', resolve)), failed]);
        if (!found) renaming.end(); // throws: the stream stops before its first command ends
        break;
      }
      compressed.push(next.value);
      await Promise.race([new Promise<void>((resolve) => inflate.write(next.value, () => resolve())), failed]);
      // Let the decompressor hand over what it has before asking for more input.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    inflate.destroy();
  }
  if (!found) throw new TrowelError('EBADSTREAM', 'Cannot accept the btrfs send stream: it has no first command');
  return { compressed, ...found };
}

/** @private Names btrfs receive reports creating ("At subvol NAME", "At snapshot NAME"), as they come. */
function subvolumesCreated(stderr: Readable): string[] {
  const names: string[] = [];
  let partial = '';
  stderr.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^At (?:subvol|snapshot) (.+)$/.exec(line);
      if (m) names.push(m[1]!);
    }
  });
  return names;
}

/** @private Deletes subvolumes a refused stream created beside the staging one (plain names only: nothing outside intoDir). */
async function removeCreated(intoDir: string, names: string[]): Promise<void> {
  for (const name of names) {
    if (name.includes('/') || name === '..' || name === '.') continue;
    const path = join(intoDir, name);
    if (await isSubvolume(path)) await deleteSubvolume(path).catch(() => {});
  }
}

/** @private A signed manifest for another template, version or parent is a replay, not an answer. */
function checkManifestIsFor(manifest: Manifest, wanted: { name: string; arch: string; version: string; parent: string | null }): void {
  const differs = (field: string, got: unknown, want: unknown) =>
    new TrowelError('EBADMANIFEST', `Cannot use the manifest: its ${field} is ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
  if (manifest.name !== wanted.name) throw differs('name', manifest.name, wanted.name);
  if (manifest.arch !== wanted.arch) throw differs('arch', manifest.arch, wanted.arch);
  if (wanted.version !== LATEST && manifest.version !== wanted.version) throw differs('version', manifest.version, wanted.version);
  validateVersion(manifest.version);
  if (manifest.parent !== wanted.parent) throw differs('parent', manifest.parent, wanted.parent);
}

/** @private Never replace a template: only a verified receive ever gets its name. */
async function requireAbsent(target: string): Promise<void> {
  if (await exists(target)) throw new TrowelError('EEXIST', `${target} already exists`, { hint: 'delete it first to receive it again' });
}

/** @private */
async function requireParent(intoDir: string, parentRef: TemplateRef): Promise<void> {
  const path = join(intoDir, subvolumeName(parentRef));
  if (!(await isSubvolume(path))) {
    throw new TrowelError('ENOPARENT', `the parent ${parentRef.version} is not at ${path}`, { hint: 'receive the parent first, or receive a full stream (no --parent)' });
  }
}

/** @private */
async function requireDirectory(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) throw new TrowelError('ENOTDIR', `${path} is not a directory`);
}

/** @private */
async function removeIfPresent(path: string, log: Logger): Promise<void> {
  if (!(await isSubvolume(path))) return;
  try {
    await deleteSubvolume(path);
  } catch (e) {
    log.error('cleanup_failed', { path, error: reasonOf(e) });
  }
}

/** @private */
async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

/**
 * @private Errors of writing into a child's stdin that has gone away: EPIPE, or ECANCELED for a write still
 * pending when the pipe was closed under it (btrfs receive quit on a bad command). The child's own exit
 * status says why, and is what the user needs.
 */
function isBrokenPipe(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === 'EPIPE' || code === 'ECANCELED' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_WRITE_AFTER_END';
}

/** @private The reason part of an error, without a "Cannot <action>: " prefix it may carry. */
function reasonOf(e: unknown): string {
  if (e instanceof CommandError && e.command.startsWith('zstd ')) {
    // zstd -v starts its stderr with a banner; the last line says what was wrong.
    const last = e.stderr.trim().split('\n').filter((l) => l && !l.startsWith('***')).at(-1);
    return `the stream does not decompress (${last?.replace(/^.*?:\s*/, '') ?? `zstd exit status ${e.exitCode}`})`;
  }
  if (e instanceof CommandError) {
    // btrfs receive announces each subvolume ("At subvol NAME"): not a reason, and NAME is our staging name.
    const tail = e.stderr.trim().split('\n').filter((l) => l && !/^At (subvol|snapshot) /.test(l)).slice(-2).join(' | ');
    const status = e.exitCode === null ? 'was stopped' : `failed with exit status ${e.exitCode}`;
    return `${e.command.split(' ').slice(0, 2).join(' ')} ${status}${tail ? `: ${tail}` : ''}`;
  }
  // Which server did not answer matters; for the rest the template in the message says enough.
  if (e instanceof TrowelError && e.code === 'EUNREACHABLE') return e.message.replace(/^Cannot /, 'cannot ');
  // Up to the first ": " (a URL's colons are not followed by a space).
  if (e instanceof TrowelError) return e.message.replace(/^Cannot .+?: /, '');
  const err = e as { code?: string; message?: string };
  if ((typeof err?.code === 'string' && err.code.startsWith('ZSTD_')) || err?.code === 'Z_DATA_ERROR') {
    return `the stream does not decompress (${err.message})`;
  }
  return err?.message ?? String(e);
}
