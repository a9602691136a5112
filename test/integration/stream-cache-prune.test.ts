/**
 * The stream cache follows the pool: removing versions (the pool API, or
 * `trowel template rm|gc` while a server may run) takes their cached
 * streams with them, on a real pool on loop btrfs with real btrfs sends.
 */
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/machines.ts';
import { templateCommand } from '../../src/cli/template.ts';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import { FRESH_STREAM_MS, pruneStreamCache } from '../../src/stream/cache-prune.ts';
import { StreamCache } from '../../src/stream/cache.ts';
import { initKeys, loadSigningKey, type SigningKey } from '../../src/stream/index.ts';
import { createSubvolume } from '../../src/sys/btrfs.ts';
import { fillTemplateTree, noise } from './stream-cache-fixture.ts';

const NAME = 'org.example.Prune';

async function cli(...argv: string[]) {
  const io = { out: '', err: '', env: {}, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) } satisfies CommandIo & { out: string; err: string };
  const code = await templateCommand(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('stream cache pruning on loop btrfs', () => {
  let fs: LoopBtrfs;
  let stateDir: string;
  let cacheDir: string;
  let work: string;
  let pool: TemplatePool;
  let key: SigningKey;
  const versions: TemplateVersion[] = [];
  let tick = Date.UTC(2026, 11, 1, 2, 0, 0);
  const later = () => Date.now() + FRESH_STREAM_MS + 1000;

  /** A new version of the working tree, one second after the last. */
  async function publish(label: string): Promise<TemplateVersion> {
    await writeFile(join(work, 'etc/hostname'), `${label}\n`);
    await writeFile(join(work, 'etc/motd'), noise(64 * 1024, label));
    const v = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: work } });
    versions.push(v);
    return v;
  }

  const cacheFor = (metrics = new MetricsRegistry()) => new StreamCache({ cacheDir, pool, signingKey: key, metrics });
  const manifests = async () => (await readdir(join(cacheDir, 'manifests', NAME, 'x86_64')).catch(() => [] as string[])).sort();
  const streamFiles = async () => (await readdir(cacheDir)).filter((f) => f.endsWith('.zst')).sort();

  beforeAll(async () => {
    fs = await createLoopBtrfs(256);
    // The layout `trowel serve` uses: <state-dir>/pool and <state-dir>/cache.
    stateDir = join(fs.mountpoint, 'state');
    cacheDir = join(stateDir, 'cache');
    await mkdir(stateDir);
    await initKeys(stateDir);
    key = await loadSigningKey(stateDir);
    pool = await TemplatePool.open(join(stateDir, 'pool'), { now: () => new Date((tick += 1000)) });
    work = join(fs.mountpoint, 'work');
    await createSubvolume(work);
    await fillTemplateTree(work);
    for (const label of ['one', 'two', 'three']) await publish(label);
  });
  afterAll(async () => {
    await fs?.destroy();
  });

  it('drops the streams of a removed version and those starting from it, and keeps the rest', async () => {
    const [v1, v2, v3] = versions as [TemplateVersion, TemplateVersion, TemplateVersion];
    const cache = cacheFor();
    const made = {
      v1: await cache.ensure(v1, null),
      v2: await cache.ensure(v2, v1.version),
      v2full: await cache.ensure(v2, null),
      v3: await cache.ensure(v3, v2.version),
    };
    expect(await manifests()).toEqual([`${v1.version}.full.json`, `${v2.version}.${v1.version}.json`, `${v2.version}.full.json`, `${v3.version}.${v2.version}.json`].sort());
    // Nothing gone yet: nothing pruned.
    expect(await pruneStreamCache({ cacheDir, pool, now: later })).toEqual({ manifests: 0, files: 0, bytes: 0 });

    await pool.remove(v1, { force: true });
    const gone = (await stat(made.v1.file)).size + (await stat(made.v2.file)).size;
    expect(await pruneStreamCache({ cacheDir, pool, now: later })).toEqual({ manifests: 2, files: 2, bytes: gone });
    expect(await manifests()).toEqual([`${v2.version}.full.json`, `${v3.version}.${v2.version}.json`].sort());
    expect(await streamFiles()).toEqual([made.v2full.file, made.v3.file].map((f) => f.slice(cacheDir.length + 1)).sort());

    // What is left is still served from the cache, without another btrfs send.
    const metrics = new MetricsRegistry();
    expect(await cacheFor(metrics).ensure(v3, v2.version)).toEqual(made.v3);
    expect(metrics.counter('trowel_stream_sends_total', '').get({ kind: 'incremental' })).toBe(0);
  });

  it('keeps a stream file a send may be about to name, and leaves what is not its own alone', async () => {
    const fresh = join(cacheDir, `${'a'.repeat(64)}.zst`);
    await writeFile(fresh, 'a send renamed me a moment ago');
    await writeFile(join(cacheDir, 'README'), 'not a stream\n');
    expect(await pruneStreamCache({ cacheDir, pool })).toEqual({ manifests: 0, files: 0, bytes: 0 });
    // Once it is old and still unnamed, it is an orphan.
    const old = new Date(Date.now() - FRESH_STREAM_MS - 1000);
    await utimes(fresh, old, old);
    expect(await pruneStreamCache({ cacheDir, pool })).toEqual({ manifests: 0, files: 1, bytes: 30 });
    expect(await readFile(join(cacheDir, 'README'), 'utf8')).toBe('not a stream\n');
  });

  it('drops an unreadable manifest, which the next request makes again', async () => {
    const v3 = versions[2]!;
    const path = join(cacheDir, 'manifests', NAME, 'x86_64', `${v3.version}.${versions[1]!.version}.json`);
    await writeFile(path, '{"manifest": tru');
    expect(await pruneStreamCache({ cacheDir, pool, now: later })).toMatchObject({ manifests: 1, files: 1 });
    const metrics = new MetricsRegistry();
    await cacheFor(metrics).ensure(v3, versions[1]!.version);
    expect(metrics.counter('trowel_stream_sends_total', '').get({ kind: 'incremental' })).toBe(1);
  });

  it('trowel template rm prunes the server\'s cache; a version re-made under the same name gets a fresh stream', async () => {
    const v3 = versions[2]!;
    const before = await cacheFor().ensure(v3, null);
    const removed = await cli('rm', NAME, 'x86_64', v3.version, '--state-dir', stateDir);
    expect(removed).toEqual({
      code: 0,
      out: expect.stringMatching(new RegExp(`^removed ${NAME} x86_64 ${v3.version}\nfreed \\d+\\.\\d MiB of cached streams \\(2 files in ${cacheDir}\\)\n$`)),
      err: '',
    });
    expect(await manifests()).toEqual([`${versions[1]!.version}.full.json`]);
    // Same version string, other bytes: the pool's clock is turned back to v3's second.
    tick = Date.parse(v3.publishedAt) - 1000;
    const again = await publish('three, again');
    expect(again.version).toBe(v3.version);
    const remade = await cacheFor().ensure(again, null);
    expect(remade.signed.manifest.sha256).not.toBe(before.signed.manifest.sha256);
  });

  it('leaves the cache alone when rm names another pool than <state-dir>/pool', async () => {
    const other = await TemplatePool.open(join(fs.mountpoint, 'other-pool'));
    await writeFile(join(work, 'etc/hostname'), 'other\n');
    const v = await other.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: work } });
    const listed = await manifests();
    // Its removal must not judge <state-dir>/cache against the other pool (which lacks every version there).
    const removed = await cli('rm', NAME, 'x86_64', v.version, '--pool', other.root, '--state-dir', stateDir);
    expect(removed).toEqual({ code: 0, out: `removed ${NAME} x86_64 ${v.version}\n`, err: '' });
    expect(await manifests()).toEqual(listed);
  });
  it('a server starting later prunes what was removed while it was down', async () => {
    const [, v2] = versions as [TemplateVersion, TemplateVersion];
    expect(await manifests()).toContain(`${v2.version}.full.json`);
    await pool.remove(v2, { force: true });
    // The first request of a new process sweeps before it answers.
    await cacheFor().ensure(versions.at(-1)!, null);
    expect(await manifests()).toEqual([`${versions.at(-1)!.version}.full.json`]);
    expect(await streamFiles()).toHaveLength(1);
  });
});
