import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullCommand } from '../../src/cli/pull.ts';
import { templateReceiveCommand, type ProgressIo } from '../../src/cli/template-receive.ts';
import { startHttpServer, type HttpServer } from '../../src/http/index.ts';
import { makeFixture, type Fixture } from '../../src/http/test-fixture.ts';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { subvolumeName, TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import { initKeys, keyPaths, loadSigningKey, publicKeyBase64, publicKeyPem, StreamCache, type SigningKey } from '../../src/stream/index.ts';
import { createSubvolume, showSubvolume } from '../../src/sys/btrfs.ts';
import { treeSnapshot } from '../helpers/tree-snapshot.ts';
import { fillTemplateTree, noise } from './stream-cache-fixture.ts';

const NAME = 'org.example.Pull';

function captureIo(): ProgressIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    env: {},
    stderrIsTTY: false,
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
  };
  return io;
}

describe('trowel pull and trowel template receive between two pools on loop btrfs', () => {
  let a: LoopBtrfs;
  let b: LoopBtrfs;
  let f: Fixture;
  let key: SigningKey;
  let server: HttpServer;
  let base: string;
  let remotePool: TemplatePool;
  let localPool: TemplatePool;
  let versions: TemplateVersion[];
  const sends = (kind: string) => f.metrics.counter('trowel_stream_sends_total', '').get({ kind });

  beforeAll(async () => {
    f = makeFixture();
    a = await createLoopBtrfs(256);
    b = await createLoopBtrfs(256);
    await initKeys(f.dir);
    key = await loadSigningKey(f.dir);
    let tick = Date.UTC(2026, 10, 22, 2, 37, 10);
    remotePool = await TemplatePool.open(join(a.mountpoint, 'pool'), { now: () => new Date((tick += 1000)) });
    const work = join(a.mountpoint, 'work');
    await createSubvolume(work);
    await fillTemplateTree(work);
    versions = [await remotePool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: work } })];
    for (const n of [2, 3]) {
      await writeFile(join(work, `srv/v${n}.bin`), noise(64 * 1024, `v${n}`));
      await writeFile(join(work, 'etc/hostname'), `template v${n}\n`);
      versions.push(await remotePool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: work } }));
    }
    const streams = new StreamCache({ cacheDir: join(f.dir, 'cache'), pool: remotePool, signingKey: key, metrics: f.metrics, log: f.options.log });
    server = await startHttpServer({ ...f.options, pool: remotePool, streams, bindAddress: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${server.port}`;
    localPool = await TemplatePool.open(join(b.mountpoint, 'pool'));
  });

  afterAll(async () => {
    await server?.close();
    await a?.destroy();
    await b?.destroy();
    f?.cleanup();
  });

  const v1 = () => versions[0]!;
  const v2 = () => versions[1]!;
  const v3 = () => versions[2]!;
  const pubFile = () => keyPaths(f.dir).publicKeyPath;

  it('template receive puts the first version into the second pool and prints its path', async () => {
    const io = captureIo();
    const code = await templateReceiveCommand(
      ['--server', base, '--name', NAME, '--arch', 'x86_64', '--version', v1().version, '--into', localPool.root, '--key-base64', publicKeyBase64(key.publicKey)],
      io,
    );
    expect({ code, err: io.err.split('\n').at(-2) }).toEqual({ code: 0, err: expect.stringMatching(new RegExp(`^${NAME} x86_64 ${v1().version}  .* 100%  .*ETA 0:00$`)) });
    expect(io.out).toBe(`${join(localPool.root, subvolumeName(v1()))}\n`);
    expect((await localPool.list()).map((v) => v.version)).toEqual([v1().version]);
  });

  it('template receive answers usage errors with exit 2 and the usage', async () => {
    const io = captureIo();
    expect(await templateReceiveCommand(['--server', base, '--name', NAME, '--arch', 'x86_64', '--into', localPool.root], io)).toBe(2);
    expect(io.err).toMatch(/^trowel template receive: give the server's public key with exactly one of --key FILE or --key-base64 B64\n\nusage: /);
  });

  it('pull with another pinned key fails with one line and changes nothing', async () => {
    const wrong = join(f.dir, 'wrong.pub');
    await writeFile(wrong, publicKeyPem(generateKeyPairSync('ed25519').publicKey));
    const io = captureIo();
    expect(await pullCommand(['--from', base, '--key', wrong, '--pool', localPool.root], io)).toBe(1);
    expect(io.err).toMatch(new RegExp(`^trowel: Cannot receive ${NAME} x86_64 ${v2().version} from ${v1().version}: it is signed with key ${key.keyId}, not the pinned key [0-9a-f]{16}; nothing was downloaded\\n$`));
    expect((await localPool.list()).map((v) => v.version)).toEqual([v1().version]);
  });

  it('pull receives the two missing versions incrementally, oldest first, and adopts the remote metadata', async () => {
    const io = captureIo();
    const fullBefore = sends('full');
    expect(await pullCommand(['--from', base, '--key', pubFile(), '--pool', localPool.root], io)).toBe(0);
    expect(io.out.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^received ${NAME} x86_64 ${v2().version} \\(incremental from ${v1().version}, \\d+\\.\\d+ KiB\\)$`)),
      expect.stringMatching(new RegExp(`^received ${NAME} x86_64 ${v3().version} \\(incremental from ${v2().version}, \\d+\\.\\d+ KiB\\)$`)),
      '',
    ]);
    expect(sends('incremental')).toBe(2);
    expect(sends('full')).toBe(fullBefore);

    const local = await localPool.list({ name: NAME, arch: 'x86_64' });
    expect(local.map((v) => v.version)).toEqual([v3().version, v2().version, v1().version]);
    for (const remote of [v2(), v3()]) {
      const mine = local.find((v) => v.version === remote.version)!;
      expect(mine).toMatchObject({ parent: remote.parent, sizeBytes: remote.sizeBytes, publishedAt: remote.publishedAt, source: `pull:${base}` });
      expect(await treeSnapshot(mine.path)).toEqual(await treeSnapshot(remote.path));
      expect((await showSubvolume(mine.path)).receivedUuid).toBe((await showSubvolume(remote.path)).uuid);
    }
  });

  it('a second pull finds the pool up to date and sends nothing', async () => {
    const before = sends('incremental') + sends('full');
    const io = captureIo();
    expect(await pullCommand(['--from', base, '--key', pubFile(), '--pool', localPool.root, '--name', NAME], io)).toBe(0);
    expect(io.out).toBe(`${NAME} x86_64 is up to date\n`);
    expect(sends('incremental') + sends('full')).toBe(before);
  });

  it('pull of a template the server does not have fails with one line', async () => {
    const io = captureIo();
    expect(await pullCommand(['--from', base, '--key', pubFile(), '--pool', localPool.root, '--name', 'org.example.Missing'], io)).toBe(1);
    expect(io.err).toBe(`trowel: Cannot pull org.example.Missing: ${base} has no such template\n`);
  });
});
