import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import { StreamCache } from '../../src/stream/cache.ts';
import { initKeys, loadSigningKey, verifyManifest, type SigningKey } from '../../src/stream/index.ts';
import { createSubvolume, deleteSubvolume, setReadonly, showSubvolume } from '../../src/sys/btrfs.ts';
import { treeSnapshot } from '../helpers/tree-snapshot.ts';
import { fillTemplateTree, noise, receiveStream } from './stream-cache-fixture.ts';

const NAME = 'org.example.Cache';

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('StreamCache on loop btrfs', () => {
  let source: LoopBtrfs;
  let target: LoopBtrfs;
  let stateDir: string;
  let pool: TemplatePool;
  let key: SigningKey;
  let v1: TemplateVersion;
  let v2: TemplateVersion;
  let metrics: MetricsRegistry;
  let cache: StreamCache;
  const sends = (kind: string) => metrics.counter('trowel_stream_sends_total', '').get({ kind });

  beforeAll(async () => {
    source = await createLoopBtrfs(256);
    target = await createLoopBtrfs(256);
    stateDir = await mkdtemp(join(tmpdir(), 'trowel-stream-cache-'));
    await initKeys(stateDir);
    key = await loadSigningKey(stateDir);
    // Versions one second apart without waiting for the wall clock.
    let tick = Date.UTC(2026, 10, 22, 2, 37, 10);
    pool = await TemplatePool.open(join(source.mountpoint, 'pool'), { now: () => new Date((tick += 1000)) });
    // The template lives in a working subvolume, like an LXC container's rootfs: each version is a snapshot of it.
    const work = join(source.mountpoint, 'work');
    await createSubvolume(work);
    await fillTemplateTree(work);
    v1 = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: work } });
    await writeFile(join(work, 'etc/hostname'), 'template v2\n');
    await writeFile(join(work, 'etc/motd'), noise(8 * 1024, 'motd'));
    v2 = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: work } });
    metrics = new MetricsRegistry();
    cache = new StreamCache({ cacheDir: join(stateDir, 'cache'), pool, signingKey: key, metrics });
  });

  afterAll(async () => {
    await source?.destroy();
    await target?.destroy();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('makes a full stream whose file, sha-256, sizes and signature match the manifest, and btrfs receive accepts it', async () => {
    const { file, signed } = await cache.ensure(v1, null);
    const m = verifyManifest(signed, key.publicKey);
    expect(m).toMatchObject({ format: 'trowel.manifest/1', name: NAME, arch: 'x86_64', version: v1.version, parent: null, compression: 'zstd' });
    expect(file).toBe(join(stateDir, 'cache', `${m.sha256}.zst`));
    expect((await stat(file)).size).toBe(m.compressedSize);
    expect(await fileSha256(file)).toBe(m.sha256);
    expect(JSON.parse(await readFile(join(stateDir, `cache/manifests/${NAME}/x86_64/${v1.version}.full.json`), 'utf8'))).toEqual(signed);
    expect(sends('full')).toBe(1);

    await receiveStream(file, target.mountpoint);
    const received = join(target.mountpoint, `@template:${NAME}:x86_64:${v1.version}`);
    expect((await showSubvolume(received)).receivedUuid).toBe((await showSubvolume(v1.path)).uuid);
    expect(await treeSnapshot(received)).toEqual(await treeSnapshot(v1.path));
    // The noise (2 MiB) doesn't compress, the text does: the stream is smaller than the tree but not tiny.
    expect(m.uncompressedSize).toBeGreaterThan(2 * 1024 * 1024);
    expect(m.compressedSize).toBeLessThan(m.uncompressedSize);
  });

  it('makes an incremental stream much smaller than the full one that applies on the received parent', async () => {
    const full = (await cache.ensure(v1, null)).signed.manifest;
    const { file, signed } = await cache.ensure(v2, v1.version);
    const m = verifyManifest(signed, key.publicKey);
    expect(m.parent).toBe(v1.version);
    expect(await fileSha256(file)).toBe(m.sha256);
    expect(sends('incremental')).toBe(1);
    // Recorded: full ~2.3 MiB uncompressed; the incremental carries an 8 KiB file and a 12-byte change.
    console.info(`full stream: ${full.uncompressedSize} B -> ${full.compressedSize} B zstd; incremental: ${m.uncompressedSize} B -> ${m.compressedSize} B`);
    expect(m.compressedSize).toBeLessThan(full.compressedSize / 50);
    expect(m.uncompressedSize).toBeLessThan(64 * 1024);

    await receiveStream(file, target.mountpoint);
    const received = join(target.mountpoint, `@template:${NAME}:x86_64:${v2.version}`);
    expect(await treeSnapshot(received)).toEqual(await treeSnapshot(v2.path));
    expect(await readFile(join(received, 'etc/hostname'), 'utf8')).toBe('template v2\n');
  });

  it('answers later requests from the cache without another btrfs send', async () => {
    const before = { full: sends('full'), hits: metrics.counter('trowel_stream_cache_hits_total', '').get() };
    const first = await cache.ensure(v1, null);
    const again = await new StreamCache({ cacheDir: join(stateDir, 'cache'), pool, signingKey: key, metrics }).ensure(v1, null);
    expect(again).toEqual(first);
    expect(sends('full')).toBe(before.full);
    expect(metrics.counter('trowel_stream_cache_hits_total', '').get()).toBe(before.hits + 2);
  });

  it('shares one btrfs send among concurrent first requests', async () => {
    const fresh = new MetricsRegistry();
    const other = new StreamCache({ cacheDir: join(stateDir, 'cache-concurrent'), pool, signingKey: key, metrics: fresh });
    const results = await Promise.all(Array.from({ length: 20 }, () => other.ensure(v2, null)));
    expect(fresh.counter('trowel_stream_sends_total', '').get({ kind: 'full' })).toBe(1);
    // All twenty waited on the one send in flight; none found a finished file.
    expect(fresh.counter('trowel_stream_cache_hits_total', '').get()).toBe(0);
    expect(new Set(results.map((r) => r.signed.signature)).size).toBe(1);
    expect(new Set(results.map((r) => r.file)).size).toBe(1);
  });

  it('refuses an unknown version or parent, and a version as its own parent', async () => {
    const ghost = { name: NAME, arch: 'x86_64' as const, version: '20200101T000000Z' };
    await expect(cache.ensure(ghost, null)).rejects.toMatchObject({ code: 'ENOVERSION' });
    await expect(cache.ensure(v2, '20200101T000000Z')).rejects.toMatchObject({
      code: 'ENOPARENT',
      message: `Cannot make an incremental stream of ${NAME} x86_64 ${v2.version}: there is no other version 20200101T000000Z to start from`,
    });
    await expect(cache.ensure(v2, v2.version)).rejects.toMatchObject({ code: 'ENOPARENT' });
    await expect(cache.ensure({ ...v2, name: '../../etc' }, null)).rejects.toMatchObject({ code: 'EBADNAME' });
    await expect(cache.ensure(v2, '../x')).rejects.toMatchObject({ code: 'EBADVERSION' });
  });

  it('removes its temp file when btrfs send fails, caches nothing, and succeeds once the cause is gone', async () => {
    const cacheDir = join(stateDir, 'cache-failing');
    const fresh = new MetricsRegistry();
    const failing = new StreamCache({ cacheDir, pool, signingKey: key, metrics: fresh });
    // btrfs send refuses a subvolume that is not read-only: a real failure of the real command.
    await setReadonly(v1.path, false);
    try {
      await expect(failing.ensure(v1, null)).rejects.toMatchObject({ code: 'ECOMMAND', message: expect.stringMatching(/^Cannot run btrfs send/) });
    } finally {
      await setReadonly(v1.path, true);
    }
    expect(await readdir(cacheDir)).toEqual([]);
    expect(fresh.counter('trowel_stream_send_failures_total', '').get({ kind: 'full' })).toBe(1);
    const { signed } = await failing.ensure(v1, null);
    expect((await readdir(cacheDir)).sort()).toEqual([`${signed.manifest.sha256}.zst`, 'manifests']);
  });

  it('makes the stream again when its file is gone, and deletes partial files a crash left', async () => {
    const cacheDir = join(stateDir, 'cache-repair');
    const fresh = new MetricsRegistry();
    const first = await new StreamCache({ cacheDir, pool, signingKey: key, metrics: fresh }).ensure(v2, v1.version);
    await rm(first.file);
    await writeFile(join(cacheDir, '.partial-0123456789abcdef.zst'), 'left by a crash');
    const again = await new StreamCache({ cacheDir, pool, signingKey: key, metrics: fresh }).ensure(v2, v1.version);
    expect(fresh.counter('trowel_stream_sends_total', '').get({ kind: 'incremental' })).toBe(2);
    expect((await stat(again.file)).size).toBe(again.signed.manifest.compressedSize);
    expect((await readdir(cacheDir)).filter((n) => n.startsWith('.partial-'))).toEqual([]);
  });

  it('re-signs a cached manifest after the key is rotated, without another send', async () => {
    const cacheDir = join(stateDir, 'cache-rotate');
    const fresh = new MetricsRegistry();
    const old = await new StreamCache({ cacheDir, pool, signingKey: key, metrics: fresh }).ensure(v1, null);
    const rotatedDir = await mkdtemp(join(tmpdir(), 'trowel-rotated-'));
    try {
      await initKeys(rotatedDir);
      const rotated = await loadSigningKey(rotatedDir);
      const now = await new StreamCache({ cacheDir, pool, signingKey: rotated, metrics: fresh }).ensure(v1, null);
      expect(fresh.counter('trowel_stream_sends_total', '').get({ kind: 'full' })).toBe(1);
      expect(now.file).toBe(old.file);
      expect(now.signed.keyId).toBe(rotated.keyId);
      expect(verifyManifest(now.signed, rotated.publicKey)).toEqual(old.signed.manifest);
      expect(() => verifyManifest(now.signed, key.publicKey)).toThrow(expect.objectContaining({ code: 'EBADSIG' }));
    } finally {
      await rm(rotatedDir, { recursive: true, force: true });
    }
  });

  it('cleans up the received subvolumes', async () => {
    for (const name of await readdir(target.mountpoint)) {
      if (name.startsWith('@template:')) await deleteSubvolume(join(target.mountpoint, name));
    }
    expect((await readdir(target.mountpoint)).filter((n) => n.startsWith('@template:'))).toEqual([]);
  });
});
