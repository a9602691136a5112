import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { zstdCompressSync, zstdDecompressSync, constants as zlibConstants } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrowelError } from '../../src/errors.ts';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../src/http/index.ts';
import { makeFixture, type Fixture } from '../../src/http/test-fixture.ts';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { subvolumeName, TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import {
  initKeys, keyIdOf, loadSigningKey, publicKeyPem, signManifest, StreamCache, verifyManifest, type SignedManifest, type SigningKey,
} from '../../src/stream/index.ts';
import type { ProgressSnapshot } from '../../src/stream/progress.ts';
import { receiveTemplate, type ReceiveOptions } from '../../src/stream/receive.ts';
import { createSubvolume, showSubvolume } from '../../src/sys/btrfs.ts';
import { treeSnapshot } from '../helpers/tree-snapshot.ts';
import { startProxy, type TamperingProxy } from './receive-fixture.ts';
import { fillTemplateTree, noise, sha256 } from './stream-cache-fixture.ts';

const NAME = 'org.example.Receive';
const CHANGED = 256 * 1024; // bytes of new, incompressible data in v2
const fast = { retries: 3, backoff: { baseMs: 20, capMs: 200 } };

describe('trowel template receive over a real server, into a second btrfs filesystem', () => {
  let a: LoopBtrfs;
  let b: LoopBtrfs;
  let f: Fixture;
  let key: SigningKey;
  let serverOptions: HttpServerOptions;
  let server: HttpServer;
  let base: string;
  let v1: TemplateVersion;
  let v2: TemplateVersion;
  const proxies: TamperingProxy[] = [];

  beforeAll(async () => {
    f = makeFixture();
    a = await createLoopBtrfs(256);
    b = await createLoopBtrfs(256);
    await initKeys(f.dir);
    key = await loadSigningKey(f.dir);
    let tick = Date.UTC(2026, 10, 22, 2, 37, 10);
    const pool = await TemplatePool.open(join(a.mountpoint, 'pool'), { now: () => new Date((tick += 1000)) });
    const work = join(a.mountpoint, 'work');
    await createSubvolume(work);
    await fillTemplateTree(work);
    v1 = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: work } });
    await writeFile(join(work, 'srv/new.bin'), noise(CHANGED, 'v2'));
    await writeFile(join(work, 'etc/hostname'), 'template v2\n');
    v2 = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: work } });
    const streams = new StreamCache({ cacheDir: join(f.dir, 'cache'), pool, signingKey: key, metrics: f.metrics, log: f.options.log });
    serverOptions = { ...f.options, pool, streams, bindAddress: '127.0.0.1', port: 0 };
    server = await startHttpServer(serverOptions);
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    for (const p of proxies) await p.close();
    await server?.close();
    await a?.destroy();
    await b?.destroy();
    f?.cleanup();
  });

  const dir = async (name: string) => {
    const path = join(b.mountpoint, name);
    await mkdir(path);
    return path;
  };
  const entries = async (path: string) => (await readdir(path)).sort();
  const proxy = async (plan: Parameters<typeof startProxy>[1]) => {
    const p = await startProxy(base, plan);
    proxies.push(p);
    return p;
  };
  const receiveVia = (server: string, options: Partial<ReceiveOptions> & { intoDir: string }) =>
    receiveTemplate({ server, name: NAME, arch: 'x86_64', version: v1.version, publicKey: key.publicKey, fetch: fast, ...options });
  const failure = async (pending: Promise<unknown>): Promise<TrowelError> => {
    const e = await pending.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(TrowelError);
    return e as TrowelError;
  };
  const manifestOf = async (version: string, parent?: string): Promise<SignedManifest> =>
    (await (await fetch(`${base}/api/v1/templates/${NAME}/x86_64/${version}/manifest${parent ? `?parent=${parent}` : ''}`)).json()) as SignedManifest;

  it('receives a full stream: the same tree, read-only with a received UUID, nothing else left behind', async () => {
    const into = await dir('full');
    const progress: ProgressSnapshot[] = [];
    const r = await receiveVia(base, { intoDir: into, onProgress: (p) => progress.push(p) });
    expect(r.path).toBe(join(into, subvolumeName(v1)));
    expect(await treeSnapshot(r.path)).toEqual(await treeSnapshot(v1.path));
    const info = await showSubvolume(r.path);
    expect(info.readonly).toBe(true);
    expect(info.receivedUuid).toBe((await showSubvolume(v1.path)).uuid);
    expect(await entries(into)).toEqual([subvolumeName(v1)]);
    expect(progress.at(-1)).toMatchObject({ bytes: r.manifest.compressedSize, total: r.manifest.compressedSize, etaSeconds: 0 });
  });

  it('receives an incremental stream whose size is close to the changed bytes', async () => {
    const into = join(b.mountpoint, 'full');
    const r = await receiveVia(base, { intoDir: into, version: v2.version, parent: v1.version });
    expect(await treeSnapshot(r.path)).toEqual(await treeSnapshot(v2.path));
    expect(r.manifest.parent).toBe(v1.version);
    // 256 KiB of noise changed: the stream is that plus a few KiB of metadata, not the 2.3 MiB tree.
    expect(r.manifest.compressedSize).toBeGreaterThan(CHANGED);
    expect(r.manifest.compressedSize).toBeLessThan(CHANGED * 1.1);
    expect(await entries(into)).toEqual([subvolumeName(v1), subvolumeName(v2)].sort());
  });

  it('resolves latest to the newest version', async () => {
    const r = await receiveVia(base, { intoDir: await dir('latest'), version: 'latest' });
    expect(r.ref.version).toBe(v2.version);
    expect(await treeSnapshot(r.path)).toEqual(await treeSnapshot(v2.path));
  });

  it('refuses to replace a received version, and one whose parent is missing, before downloading', async () => {
    const p = await proxy({});
    const existing = await failure(receiveVia(p.url, { intoDir: join(b.mountpoint, 'full') }));
    expect(existing.code).toBe('EEXIST');
    expect(existing.message).toBe(`Cannot receive ${NAME} x86_64 ${v1.version}: ${join(b.mountpoint, 'full', subvolumeName(v1))} already exists; nothing was downloaded`);
    const orphan = await failure(receiveVia(p.url, { intoDir: await dir('orphan'), version: v2.version, parent: v1.version }));
    expect(orphan.code).toBe('ENOPARENT');
    expect(p.streamRequests).toEqual([]);
    expect(await entries(join(b.mountpoint, 'orphan'))).toEqual([]);
  });

  it('resumes after the server is killed mid-stream and restarted on the same port', async () => {
    const size = (await manifestOf(v1.version)).manifest.compressedSize;
    const port = server.port;
    let restarted: Promise<void> | undefined;
    const p = await proxy({
      cutAfter: (i) => (i === 0 ? Math.floor(size * 0.4) : undefined),
      onCut: () => {
        restarted = (async () => {
          await server.close();
          await new Promise((r) => setTimeout(r, 300));
          server = await startHttpServer({ ...serverOptions, port });
        })();
      },
    });
    const into = await dir('resume');
    const r = await receiveVia(p.url, { intoDir: into, fetch: { retries: 8, backoff: { baseMs: 50, capMs: 400 } } });
    await restarted;
    expect(await treeSnapshot(r.path)).toEqual(await treeSnapshot(v1.path));
    expect(r.retries).toBeGreaterThanOrEqual(1);
    // One resume, from what the client had (bytes still in flight when the socket was destroyed are lost: at most the cut).
    const resumed = p.streamRequests.filter((s) => s.status === 206);
    expect(resumed).toEqual([{ range: expect.stringMatching(/^bytes=\d+-$/), ifRange: `"${r.manifest.sha256}"`, status: 206 }]);
    const from = Number(/\d+/.exec(resumed[0]!.range!)![0]);
    expect(from).toBeGreaterThan(size * 0.2);
    expect(from).toBeLessThanOrEqual(Math.floor(size * 0.4));
    expect(p.streamBytes()).toBe(Math.floor(size * 0.4) + size - from);
    expect(p.streamBytes()).toBeLessThan(size * 1.2);
    expect(await entries(into)).toEqual([subvolumeName(v1)]);
  });

  it('refuses a stream that never arrives past half its length and leaves nothing behind', async () => {
    const size = (await manifestOf(v1.version)).manifest.compressedSize;
    const p = await proxy({ truncateAt: Math.floor(size / 2) });
    const into = await dir('truncated');
    const e = await failure(receiveVia(p.url, { intoDir: into }));
    expect(e.code).toBe('EFETCH');
    expect(e.message).toMatch(new RegExp(`^Cannot receive ${NAME} x86_64 ${v1.version}: the connection (closed mid-transfer \\(UND_ERR_SOCKET\\)|was reset \\(ECONNRESET\\)); gave up after 3 retries \\(${Math.floor(size / 2)} of ${size} bytes received\\); nothing was kept$`));
    expect(await entries(into)).toEqual([]);
  });

  it('refuses a stream with one flipped bit and leaves nothing behind', async () => {
    const size = (await manifestOf(v1.version)).manifest.compressedSize;
    const p = await proxy({ flipAt: Math.floor(size * 0.6) });
    const into = await dir('flipped');
    const e = await failure(receiveVia(p.url, { intoDir: into }));
    // Caught by btrfs receive's per-command crc32c, or by zstd's frame checksum, whichever sees it first.
    expect(e.message).toMatch(new RegExp(
      `^Cannot receive ${NAME} x86_64 ${v1.version}: (btrfs receive failed with exit status 1: ERROR: crc32 mismatch in command|the stream does not decompress .*); nothing was kept$`,
    ));
    expect(await entries(into)).toEqual([]);
  });

  it('receives a tampered cache file that is still a valid stream to the end, then refuses it by its sha-256', async () => {
    const signed = await manifestOf(v1.version);
    const file = join(f.dir, 'cache', `${signed.manifest.sha256}.zst`);
    const original = await readFile(file);
    const substitute = sameSizeRecompression(original);
    expect(sha256(substitute)).not.toBe(signed.manifest.sha256);
    expect(zstdDecompressSync(substitute).equals(zstdDecompressSync(original))).toBe(true);
    await writeFile(file, substitute);
    try {
      const into = await dir('tampered');
      const e = await failure(receiveVia(base, { intoDir: into }));
      expect(e.code).toBe('EDIGEST');
      expect(e.message).toBe(`Cannot receive ${NAME} x86_64 ${v1.version}: sha-256 mismatch (stream tampered or corrupted); nothing was kept`);
      expect(await entries(into)).toEqual([]);
    } finally {
      await writeFile(file, original);
    }
  });

  it('refuses a manifest re-signed with another key before a byte of the stream is asked for', async () => {
    const other = otherSigningKey();
    const resigned = await proxy({ manifest: (s) => signManifest({ ...(s as SignedManifest).manifest, sha256: 'f'.repeat(64) }, other) });
    const into = await dir('resigned');
    const e = await failure(receiveVia(resigned.url, { intoDir: into }));
    expect(e.code).toBe('EBADSIG');
    expect(e.message).toBe(`Cannot receive ${NAME} x86_64 ${v1.version}: it is signed with key ${other.keyId}, not the pinned key ${key.keyId}; nothing was downloaded`);
    // The same forgery claiming the pinned key's id.
    const forged = await proxy({ manifest: (s) => ({ ...signManifest((s as SignedManifest).manifest, other), keyId: key.keyId }) });
    const e2 = await failure(receiveVia(forged.url, { intoDir: into }));
    expect(e2.message).toBe(`Cannot receive ${NAME} x86_64 ${v1.version}: its signature does not match key ${key.keyId}; nothing was downloaded`);
    expect([...resigned.streamRequests, ...forged.streamRequests]).toEqual([]);
    expect(await entries(into)).toEqual([]);
  });

  it('refuses a validly signed manifest of another version (a replay)', async () => {
    const old = await manifestOf(v1.version);
    const p = await proxy({ manifest: () => old });
    const e = await failure(receiveVia(p.url, { intoDir: await dir('replay'), version: v2.version }));
    expect(e.code).toBe('EBADMANIFEST');
    expect(e.message).toBe(`Cannot receive ${NAME} x86_64 ${v2.version}: its version is "${v1.version}", not "${v2.version}"; nothing was downloaded`);
    expect(verifyManifest(old, key.publicKey).version).toBe(v1.version); // genuinely signed
    expect(p.streamRequests).toEqual([]);
  });

  it('cleans up the partial subvolume of a receive that was killed, at the next receive', async () => {
    const size = (await manifestOf(v1.version)).manifest.compressedSize;
    const p = await proxy({ stallAt: Math.floor(size / 2) });
    const into = await dir('crash');
    const child = spawn(process.execPath, [
      join(import.meta.dirname, 'receive-crash-child.ts'),
      JSON.stringify({ server: p.url, name: NAME, arch: 'x86_64', version: v1.version, intoDir: into, publicKeyPem: publicKeyPem(key.publicKey) }),
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`the receiving child exited early with ${code}`)));
      });
      // Wait until btrfs receive has made the staging subvolume and the proxy has stalled.
      for (let i = 0; i < 100 && p.streamBytes() < Math.floor(size / 2); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode === null && child.signalCode === null ? child.once('exit', r) : r(undefined)));
    }
    const left = await entries(into);
    expect(left).toEqual([expect.stringMatching(new RegExp(`^\\.receiving\\.${child.pid}\\.[0-9a-f]+$`))]);
    expect((await showSubvolume(join(into, left[0]!))).receivedUuid).toBeUndefined();
    const r = await receiveVia(base, { intoDir: into });
    expect(await entries(into)).toEqual([subvolumeName(v1)]);
    expect(await treeSnapshot(r.path)).toEqual(await treeSnapshot(v1.path));
  });
});

/** An ed25519 key the server never used. */
function otherSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/**
 * The same btrfs stream compressed differently, padded to the original size
 * with a zstd skippable frame (RFC 8878 §3.1.2: magic 0x184D2A5?, u32 size,
 * ignored bytes): a valid stream of the right length whose sha-256 differs.
 */
function sameSizeRecompression(original: Buffer): Buffer {
  const plain = zstdDecompressSync(original);
  for (const level of [19, 12, 6]) {
    const packed = zstdCompressSync(plain, { params: { [zlibConstants.ZSTD_c_compressionLevel]: level } });
    const pad = original.length - packed.length;
    if (pad < 8) continue;
    const skippable = Buffer.alloc(pad);
    skippable.writeUInt32LE(0x184d2a50, 0);
    skippable.writeUInt32LE(pad - 8, 4);
    return Buffer.concat([packed, skippable]);
  }
  throw new Error('no zstd level made a smaller stream to pad');
}
