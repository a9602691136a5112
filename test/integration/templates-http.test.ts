import { request as httpRequest } from 'node:http';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../src/http/index.ts';
import { makeFixture, type Fixture } from '../../src/http/test-fixture.ts';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import { initKeys, loadSigningKey, parsePublicKey, StreamCache, verifyManifest, type SignedManifest, type SigningKey } from '../../src/stream/index.ts';
import { createSubvolume, deleteSubvolume } from '../../src/sys/btrfs.ts';
import { run } from '../../src/sys/run.ts';
import { treeSnapshot } from '../helpers/tree-snapshot.ts';
import { fillTemplateTree, noise, receiveStream, sha256 } from './stream-cache-fixture.ts';

const NAME = 'org.example.Http';
const API = `/api/v1/templates/${NAME}/x86_64`;

describe('template HTTP API over a real server and loop btrfs', () => {
  let source: LoopBtrfs;
  let target: LoopBtrfs;
  let f: Fixture;
  let key: SigningKey;
  let pool: TemplatePool;
  let server: HttpServer;
  let base: string;
  let v1: TemplateVersion;
  let v2: TemplateVersion;
  const sends = (kind: string) => f.metrics.counter('trowel_stream_sends_total', '').get({ kind });

  beforeAll(async () => {
    f = makeFixture();
    source = await createLoopBtrfs(256);
    target = await createLoopBtrfs(256);
    await initKeys(f.dir);
    key = await loadSigningKey(f.dir);
    let tick = Date.UTC(2026, 10, 22, 2, 37, 10);
    pool = await TemplatePool.open(join(source.mountpoint, 'pool'), { now: () => new Date((tick += 1000)) });
    const work = join(source.mountpoint, 'work');
    await createSubvolume(work);
    await fillTemplateTree(work);
    v1 = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: work } });
    await writeFile(join(work, 'etc/motd'), noise(4096, 'motd'));
    await writeFile(
      join(work, 'var/lib/dpkg/status'),
      'Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u11\n\n' +
        'Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u12\n',
    );
    v2 = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: work } });
    const streams = new StreamCache({ cacheDir: join(f.dir, 'cache'), pool, signingKey: key, metrics: f.metrics, log: f.options.log });
    server = await startHttpServer({ ...f.options, pool, streams, bindAddress: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server?.close();
    await source?.destroy();
    await target?.destroy();
    f?.cleanup();
  });

  const get = (path: string, init?: RequestInit) => fetch(`${base}${path}`, init);
  const body = async (res: Response) => Buffer.from(await res.arrayBuffer());

  it('lists templates with versions newest first and their parents', async () => {
    const res = await get('/api/v1/templates');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      templates: [{
        name: NAME, arch: 'x86_64',
        versions: [
          { version: v2.version, parent: v1.version, sizeBytes: v2.sizeBytes, publishedAt: v2.publishedAt },
          { version: v1.version, parent: null, sizeBytes: v1.sizeBytes, publishedAt: v1.publishedAt },
        ],
      }],
    });
  });

  it('publishes the signing key at /api/v1/keys', async () => {
    const { keys } = (await (await get('/api/v1/keys')).json()) as { keys: { keyId: string; publicKey: string }[] };
    expect(keys.map((k) => k.keyId)).toEqual([key.keyId]);
    expect(parsePublicKey(keys[0]!.publicKey).equals(key.publicKey)).toBe(true);
  });

  it('50 concurrent first requests for one stream cause one btrfs send and get identical, verified bodies', async () => {
    expect(sends('full')).toBe(0);
    const responses = await Promise.all(Array.from({ length: 50 }, () => get(`${API}/${v2.version}/stream`)));
    const bodies = await Promise.all(responses.map(body));
    expect(sends('full')).toBe(1);
    // Requests that arrived while the send ran shared it; only later ones are cache hits.
    expect(f.metrics.counter('trowel_stream_cache_hits_total', '').get()).toBeLessThan(50);
    const manifest = verifyManifest(await (await get(`${API}/${v2.version}/manifest`)).json(), key.publicKey);
    expect(sends('full')).toBe(1);
    for (const [i, res] of responses.entries()) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/zstd');
      expect(res.headers.get('content-length')).toBe(String(manifest.compressedSize));
      expect(res.headers.get('etag')).toBe(`"${manifest.sha256}"`);
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(res.headers.get('repr-digest')).toBe(`sha-256=:${Buffer.from(manifest.sha256, 'hex').toString('base64')}:`);
      expect(bodies[i]!.equals(bodies[0]!)).toBe(true);
    }
    expect(bodies[0]!.length).toBe(manifest.compressedSize);
    expect(sha256(bodies[0]!)).toBe(manifest.sha256);
  });

  it('resumes with Range and If-Range, refuses a stale If-Range, and answers 416 past the end', async () => {
    const path = `${API}/${v1.version}/stream`;
    const head = await get(path, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const size = Number(head.headers.get('content-length'));
    const etag = head.headers.get('etag')!;
    expect(await head.text()).toBe('');
    const whole = await body(await get(path));
    expect(whole.length).toBe(size);

    const first = await get(path, { headers: { range: 'bytes=0-99999' } });
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe(`bytes 0-99999/${size}`);
    expect(first.headers.get('repr-digest')).toBe(head.headers.get('repr-digest'));
    const part1 = await body(first);
    const rest = await get(path, { headers: { range: 'bytes=100000-', 'if-range': etag } });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-length')).toBe(String(size - 100000));
    expect(Buffer.concat([part1, await body(rest)]).equals(whole)).toBe(true);

    const stale = await get(path, { headers: { range: 'bytes=100000-', 'if-range': '"0000"' } });
    expect(stale.status).toBe(200);
    expect((await body(stale)).equals(whole)).toBe(true);

    const past = await get(path, { headers: { range: `bytes=${size}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`);
    await past.body?.cancel();
  });

  it('a client receives the full and then the incremental stream over HTTP into another filesystem', async () => {
    const pinned = key.publicKey;
    for (const [version, parent] of [[v1, null], [v2, v1]] as const) {
      const query = parent ? `?parent=${parent.version}` : '';
      const signed = (await (await get(`${API}/${version.version}/manifest${query}`)).json()) as SignedManifest;
      const manifest = verifyManifest(signed, pinned);
      expect(manifest.parent).toBe(parent?.version ?? null);
      const bytes = await body(await get(`${API}/${version.version}/stream${query}`));
      expect(sha256(bytes)).toBe(manifest.sha256);
      await receiveStream(bytes, target.mountpoint);
      const received = join(target.mountpoint, `@template:${NAME}:x86_64:${version.version}`);
      expect(await treeSnapshot(received)).toEqual(await treeSnapshot(version.path));
    }
    expect(sends('incremental')).toBe(1);
    for (const version of [v2, v1]) await deleteSubvolume(join(target.mountpoint, `@template:${NAME}:x86_64:${version.version}`));
  });

  it('resolves latest to the newest version', async () => {
    const manifest = verifyManifest(await (await get(`${API}/latest/manifest`)).json(), key.publicKey);
    expect(manifest.version).toBe(v2.version);
  });

  it('lists packages and their diff against the parent', async () => {
    expect(await (await get(`${API}/${v1.version}/packages`)).json()).toEqual({
      packages: [
        { name: 'base-files', version: '12.4+deb12u10', arch: 'amd64' },
        { name: 'zstd', version: '1.5.4+dfsg2-5', arch: 'amd64' },
      ],
    });
    expect(await (await get(`${API}/latest/packages?parent=${v1.version}`)).json()).toEqual({
      added: [{ name: 'curl', version: '7.88.1-10+deb12u12', arch: 'amd64' }],
      removed: [{ name: 'zstd', version: '1.5.4+dfsg2-5', arch: 'amd64' }],
      changed: [{ name: 'base-files', arch: 'amd64', from: '12.4+deb12u10', to: '12.4+deb12u11' }],
    });
  });

  it.each([
    ['/api/v1/templates/org.example.Nothing/x86_64/latest/stream', 'template_not_found'],
    [`/api/v1/templates/${NAME}/aarch64/latest/manifest`, 'template_not_found'],
    [`${API}/20200101T000000Z/stream`, 'version_not_found'],
    [`${API}/20200101T000000Z/packages`, 'version_not_found'],
    [`${API}/latest/stream?parent=20200101T000000Z`, 'parent_not_found'],
    [`${API}/latest/manifest?parent=latest`, 'invalid_name'],
  ])('%s answers %s', async (path, code) => {
    const res = await get(path);
    expect(res.status).toBe(code === 'invalid_name' ? 400 : 404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it('answers 400 to raw traversal paths without creating anything in the cache', async () => {
    const before = await readdirSorted(join(f.dir, 'cache'));
    const cases: [string, number, string][] = [
      // The URL parser resolves these dot-segments to /etc/...: no route matches.
      ['/api/v1/templates/../../../etc/x86_64/latest/stream', 404, 'not_found'],
      ['/api/v1/templates/..%2F..%2Fetc%2Fshadow/x86_64/latest/stream', 400, 'invalid_name'],
      [`/api/v1/templates/${NAME}/x86_64/..%2F..%2F..%2Fetc/stream`, 400, 'invalid_name'],
      [`/api/v1/templates/${NAME}/x86_64/latest/stream?parent=..%2F..%2Fetc`, 400, 'invalid_name'],
      [`/api/v1/templates/${NAME}/x86_64/latest/packages?parent=%00`, 400, 'invalid_name'],
    ];
    for (const [raw, status, code] of cases) {
      const res = await rawGet(server.port, raw);
      expect(res.status, raw).toBe(status);
      expect(JSON.parse(res.text).error.code, raw).toBe(code);
    }
    expect(await readdirSorted(join(f.dir, 'cache'))).toEqual(before);
  });

  it('leaves no partial files in the cache', async () => {
    expect((await readdirSorted(join(f.dir, 'cache'))).filter((n) => n.startsWith('.partial-'))).toEqual([]);
  });

  it('answers 507 with what to do when the cache disk is full, leaves nothing behind, and goes on serving', async () => {
    // A 512 KiB tmpfs under the cache: the ~2.3 MiB stream cannot fit.
    const tiny = join(f.dir, 'tiny-cache');
    await mkdir(tiny);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'trowel-test-tiny-cache', tiny]);
    let other: HttpServer | undefined;
    try {
      const streams = new StreamCache({ cacheDir: tiny, pool, signingKey: key, metrics: f.metrics, log: f.options.log });
      other = await startHttpServer({ ...f.options, pool, streams, bindAddress: '127.0.0.1', port: 0 });
      const res = await fetch(`http://127.0.0.1:${other.port}${API}/${v1.version}/stream`);
      expect(res.status).toBe(507);
      expect(await res.json()).toEqual({
        error: {
          code: 'cache_full',
          message: `Cannot cache the stream of ${NAME} x86_64 ${v1.version}: no space left in ${tiny} ` +
            '(free space there, or remove old versions with trowel template gc --keep N, which drops their cached streams too)',
        },
      });
      // The partial file is gone, and the server answers the next request.
      expect(await readdir(tiny)).toEqual([]);
      expect((await fetch(`http://127.0.0.1:${other.port}/api/v1/templates`)).status).toBe(200);
    } finally {
      await other?.close();
      await run('umount', [tiny]);
    }
  });
});

async function readdirSorted(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

/** GET with the path exactly as written (fetch would resolve dot-segments first). */
function rawGet(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
