import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrowelError } from '../../src/errors.ts';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { createLogger, LogLevel, type LogRecord } from '../../src/log/logger.ts';
import { TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import { createSubvolume, isSubvolume, showSubvolume, snapshot } from '../../src/sys/btrfs.ts';
import { SCRUB_HOOK, makeTemplateTree } from '../helpers/template-tree.ts';
import { treeSnapshot } from '../helpers/tree-snapshot.ts';

const NAME = 'org.example.Desktop';
const HOOKS = {
  '10-scrub': { body: SCRUB_HOOK, mode: 0o755 },
  '20-disabled': { body: '#!/bin/sh\nexit 1\n', mode: 0o644 },
  'README~': { body: '#!/bin/sh\nexit 1\n', mode: 0o755 },
};

/** What the scrub hook changes: identity files gone, a record of its run added. */
function expectedAfterScrub(source: Awaited<ReturnType<typeof treeSnapshot>>) {
  const expected = { ...source };
  delete expected['etc/machine-id'];
  delete expected['etc/ssh/ssh_host_ed25519_key'];
  delete expected['etc/ssh/ssh_host_ed25519_key.pub'];
  return expected;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof TrowelError) return e.code;
    throw e;
  }
  throw new Error('expected a TrowelError');
}

describe('TemplatePool on a loop btrfs', () => {
  let fs: LoopBtrfs;
  let other: LoopBtrfs;
  let work: string;
  let source: string;
  let pool: TemplatePool;
  const records: LogRecord[] = [];

  beforeAll(async () => {
    fs = await createLoopBtrfs(256);
    other = await createLoopBtrfs(128);
    work = await mkdtemp(join(tmpdir(), 'trowel-pool-'));
    source = join(work, 'rootfs');
    await makeTemplateTree(source, { hooks: HOOKS });
    pool = await TemplatePool.open(join(fs.mountpoint, 'pool'), { log: createLogger('test', (r) => records.push(r), LogLevel.debug) });
  });
  afterAll(async () => {
    await fs?.destroy();
    await other?.destroy();
    if (work) await rm(work, { recursive: true, force: true });
  });

  describe('open', () => {
    it('creates a missing pool root on btrfs as a subvolume, with .trowel/', async () => {
      expect(await isSubvolume(pool.root)).toBe(true);
      expect((await stat(join(pool.root, '.trowel'))).isDirectory()).toBe(true);
    });

    it('refuses a pool on a filesystem that is not btrfs', async () => {
      const plain = join(work, 'plain-pool');
      await mkdir(plain);
      await expect(TemplatePool.open(plain)).rejects.toMatchObject({
        code: 'ENOTBTRFS',
        message: `Cannot open pool ${plain}: not a btrfs filesystem`,
        hint: expect.stringContaining('btrfs'),
      });
      expect(await readdir(plain)).toEqual([]);
    });

    it('refuses a missing pool root whose parent is not btrfs', async () => {
      await expect(TemplatePool.open(join(work, 'missing'))).rejects.toMatchObject({ code: 'ENOPOOL', message: expect.stringMatching(/does not exist$/) });
    });

    it('deletes staging subvolumes left by a process that is gone', async () => {
      const stale = join(pool.root, '.staging.999999999.deadbeef');
      await createSubvolume(stale);
      await TemplatePool.open(pool.root);
      expect(await isSubvolume(stale)).toBe(false);
    });
  });

  describe('names are refused before any filesystem access', () => {
    // The root does not exist: touching the filesystem would fail with another error.
    const nowhere = new TemplatePool('/nonexistent/trowel-pool');
    const from = { kind: 'dir', path: '/nonexistent/src' } as const;

    it.each(['../../etc/passwd', '', 'org.example.Dësktop', 'Org.Example.Desktop', `org.${'a'.repeat(200)}.X`])('publish %j', async (name) => {
      expect(await codeOf(nowhere.publish({ name, arch: 'x86_64', from }))).toBe('EBADNAME');
    });

    it('arches, versions, list, get, remove, adopt', async () => {
      expect(await codeOf(nowhere.publish({ name: NAME, arch: 'amd64' as 'x86_64', from }))).toBe('EBADARCH');
      expect(await codeOf(nowhere.list({ name: '../x' }))).toBe('EBADNAME');
      expect(await codeOf(nowhere.get('../x', 'x86_64', 'latest'))).toBe('EBADNAME');
      expect(await codeOf(nowhere.get(NAME, 'x86_64', '../../x'))).toBe('EBADVERSION');
      expect(await codeOf(nowhere.remove({ name: NAME, arch: 'x86_64', version: 'latest' }))).toBe('EBADVERSION');
      expect(await codeOf(nowhere.adopt({ name: 'a/b.C', arch: 'x86_64', version: '20260101T000000Z' }, { parent: null, sizeBytes: 0, publishedAt: '2026-01-01T00:00:00Z', source: 'x' }))).toBe('EBADNAME');
    });
  });

  describe('publish from a directory', () => {
    let first: TemplateVersion;
    const progress: string[] = [];

    beforeAll(async () => {
      first = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'dir', path: source }, onProgress: (l) => progress.push(l) });
    });

    it('copies the tree with owners, modes, links, xattrs, fifo and device, minus what the hook scrubs', async () => {
      const expected = expectedAfterScrub(await treeSnapshot(source));
      const actual = await treeSnapshot(first.path);
      const prepared = actual['root/prepared'];
      delete actual['root/prepared'];
      expect(actual).toEqual(expected);
      expect(prepared).toMatchObject({ type: 'f', mode: '644', uid: 0, gid: 0 });
      // Spot checks that the tree really holds what the comparison covers.
      expect(actual['run/initctl']?.type).toBe('p');
      expect(actual['dev/null']?.type).toBe('c');
      expect(actual['usr/share/doc/original']?.hardlinkOf).toBe('usr/share/doc/hardlink');
      expect(actual['usr/share/doc/binary']?.xattrs['system.posix_acl_access']).toBe('0x02000000' + '01000600ffffffff0200040063000000' + '04000400ffffffff10000400ffffffff20000400ffffffff');
      expect(actual['usr/bin/suid-tool']?.mode).toBe('4755');
      expect((await stat(first.path)).mode & 0o7777).toBe(0o755);
    });

    it('ran the hooks in a chroot with /proc, a /dev/null and its own PID namespace, skipping non-executables', async () => {
      expect(await readFile(join(first.path, 'root/prepared'), 'utf8')).toBe(`template=${NAME} arch=x86_64 pid=1\nproc=yes\ndevnull=yes\nchroot=yes\n`);
      expect(progress).toEqual([`copying ${source}`, 'running prepare hook 10-scrub', 'measuring', `published ${NAME} x86_64 ${first.version}`]);
      // /proc and /dev were mounted only in the hook's namespace.
      expect(await readdir(join(first.path, 'proc'))).toEqual([]);
      expect(await readdir(join(first.path, 'dev'))).toEqual(['null']);
    });

    it('is a read-only subvolume named @template:<name>:<arch>:<version>', async () => {
      expect(first.path).toBe(join(pool.root, `@template:${NAME}:x86_64:${first.version}`));
      expect((await showSubvolume(first.path)).readonly).toBe(true);
      await expect(writeFile(join(first.path, 'etc/new'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
    });

    it('writes the sidecar of docs/templates.md', async () => {
      const sidecar = JSON.parse(await readFile(join(pool.root, `.trowel/${NAME}/x86_64/${first.version}.json`), 'utf8'));
      expect(sidecar).toEqual({ name: NAME, arch: 'x86_64', version: first.version, parent: null, source: `dir:${source}`, sizeBytes: first.sizeBytes, publishedAt: first.publishedAt });
      expect(first.publishedAt.replace(/[-:]|\.\d{3}/g, '')).toBe(first.version);
      // The busybox binary alone is over 1 MB; directories add a little.
      const busybox = (await stat('/bin/busybox')).size;
      expect(first.sizeBytes).toBeGreaterThan(busybox);
      expect(first.sizeBytes).toBeLessThan(busybox + 64 * 1024);
      expect(await pool.get(NAME, 'x86_64', first.version)).toEqual(first);
    });

    it('chains parents across versions from a directory and from a subvolume', async () => {
      await writeFile(join(source, 'etc/motd'), 'version two\n');
      const second = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'dir', path: source } });
      const third = await pool.publish({ name: NAME, arch: 'x86_64', from: { kind: 'subvolume', path: second.path } });
      expect(second.parent).toBe(first.version);
      expect(third.parent).toBe(second.version);
      expect(third.source).toBe(`subvolume:${second.path}`);
      expect(second.version > first.version && third.version > second.version).toBe(true);
      // A snapshot of a published version: same tree (its hook found nothing left to scrub but ran again).
      expect(await treeSnapshot(third.path)).toEqual(await treeSnapshot(second.path));
      expect((await showSubvolume(third.path)).parentUuid).toBe((await showSubvolume(second.path)).uuid);
      expect((await pool.list({ name: NAME })).map((v) => v.version)).toEqual([third.version, second.version, first.version]);
      expect((await pool.get(NAME, 'x86_64', 'latest'))?.version).toBe(third.version);
      expect(await pool.get(NAME, 'aarch64', 'latest')).toBeUndefined();
    });
  });

  describe('publish failures leave nothing behind', () => {
    const leftovers = async () => (await readdir(pool.root)).filter((e) => e.startsWith('.staging.'));

    it('a failing prepare hook', async () => {
      const failing = join(work, 'failing');
      await makeTemplateTree(failing, { hooks: { '10-scrub': { body: SCRUB_HOOK, mode: 0o755 }, '50-fail': { body: '#!/bin/sh\necho broken >&2\nexit 3\n', mode: 0o755 } } });
      const error = await pool.publish({ name: 'org.example.Failing', arch: 'x86_64', from: { kind: 'dir', path: failing } }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'EHOOK', message: 'Cannot publish org.example.Failing x86_64: prepare hook 50-fail failed: exit status 3: broken' });
      expect(await pool.list({ name: 'org.example.Failing' })).toEqual([]);
      expect(await leftovers()).toEqual([]);
      await expect(stat(join(pool.root, '.trowel/org.example.Failing'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('a subvolume on another filesystem', async () => {
      const foreign = join(other.mountpoint, 'foreign');
      await createSubvolume(foreign);
      await expect(pool.publish({ name: 'org.example.Foreign', arch: 'x86_64', from: { kind: 'subvolume', path: foreign } })).rejects.toMatchObject({
        code: 'ECROSSFS',
        message: `Cannot publish from subvolume ${foreign}: it is on another filesystem than the pool ${pool.root}`,
        hint: expect.stringContaining(`--from ${foreign}`),
      });
      expect(await leftovers()).toEqual([]);
    });

    it('a plain directory given as a subvolume, a missing directory, a directory holding the pool', async () => {
      await expect(pool.publish({ name: 'org.example.X', arch: 'x86_64', from: { kind: 'subvolume', path: source } })).rejects.toMatchObject({ code: 'ENOTSUBVOL' });
      await expect(pool.publish({ name: 'org.example.X', arch: 'x86_64', from: { kind: 'dir', path: join(work, 'nope') } })).rejects.toMatchObject({
        code: 'ENOSOURCE', message: `Cannot publish from directory ${join(work, 'nope')}: it does not exist`,
      });
      await expect(pool.publish({ name: 'org.example.X', arch: 'x86_64', from: { kind: 'dir', path: fs.mountpoint } })).rejects.toMatchObject({ code: 'EBADSOURCE' });
      expect(await pool.list({ name: 'org.example.X' })).toEqual([]);
      expect(await leftovers()).toEqual([]);
    });
  });

  it('waits for the next second rather than reuse a version', async () => {
    const small = join(work, 'small');
    await makeTemplateTree(small);
    let t = Date.parse('2030-01-01T00:00:00.000Z');
    const waits: LogRecord[] = [];
    const clocked = await TemplatePool.open(pool.root, {
      now: () => new Date(t),
      log: createLogger('test', (r) => {
        if (r.event !== 'version_wait') return;
        waits.push(r);
        t += 1000; // the clock moves on while the publish sleeps
      }, LogLevel.debug),
    });
    const a = await clocked.publish({ name: 'org.example.Clock', arch: 'aarch64', from: { kind: 'dir', path: small } });
    const b = await clocked.publish({ name: 'org.example.Clock', arch: 'aarch64', from: { kind: 'dir', path: small } });
    expect([a.version, b.version]).toEqual(['20300101T000000Z', '20300101T000001Z']);
    expect(b.parent).toBe('20300101T000000Z');
    expect(waits).toHaveLength(1);
  });

  describe('remove and gc', () => {
    const name = 'org.example.Chain';
    let chain: TemplateVersion[];

    beforeAll(async () => {
      const small = join(work, 'chain');
      await makeTemplateTree(small);
      let t = Date.parse('2031-01-01T00:00:00.000Z');
      const clocked = await TemplatePool.open(pool.root, { now: () => new Date((t += 1000)) });
      chain = [];
      chain.push(await clocked.publish({ name, arch: 'x86_64', from: { kind: 'dir', path: small } }));
      for (let i = 0; i < 4; i++) chain.push(await clocked.publish({ name, arch: 'x86_64', from: { kind: 'subvolume', path: chain.at(-1)!.path } }));
      expect(chain.map((v) => v.version)).toEqual(['20310101T000001Z', '20310101T000002Z', '20310101T000003Z', '20310101T000004Z', '20310101T000005Z']);
    });

    it('refuses to remove a parent, and removes it with force, orphaning its child', async () => {
      const [oldest, second] = chain as [TemplateVersion, TemplateVersion];
      await expect(pool.remove(oldest)).rejects.toMatchObject({
        code: 'EPARENT',
        message: `Cannot remove ${name} x86_64 ${oldest.version}: it is the parent of ${second.version}`,
        hint: expect.stringContaining('--force'),
      });
      expect(await isSubvolume(oldest.path)).toBe(true);
      await pool.remove(oldest, { force: true });
      expect(await isSubvolume(oldest.path)).toBe(false);
      await expect(stat(join(pool.root, `.trowel/${name}/x86_64/${oldest.version}.json`))).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await pool.get(name, 'x86_64', second.version))?.parent).toBeNull();
      await expect(pool.remove(oldest)).rejects.toMatchObject({ code: 'ENOVERSION' });
    });

    it('gc keeps the newest N and their parents, per name and arch', async () => {
      const otherNames = (await pool.list()).filter((v) => v.name !== name);
      const removed = await pool.gc({ keep: 1, name });
      expect(removed.map((v) => v.version)).toEqual(['20310101T000002Z', '20310101T000003Z']);
      expect((await pool.list({ name })).map((v) => v.version)).toEqual(['20310101T000005Z', '20310101T000004Z']);
      expect(await pool.list()).toEqual(expect.arrayContaining(otherNames));
      expect(await pool.gc({ keep: 1, name })).toEqual([]);
      await expect(pool.gc({ keep: 0 })).rejects.toMatchObject({ code: 'EBADKEEP' });
    });
  });

  describe('what counts as a version', () => {
    it('lists a subvolume without a sidecar with parent null, and adopt gives it metadata', async () => {
      const received = join(pool.root, '@template:org.example.Received:x86_64:20250505T050505Z');
      const base = join(pool.root, 'received-source');
      await createSubvolume(base);
      await snapshot(base, received, { readonly: true });
      const ref = { name: 'org.example.Received', arch: 'x86_64', version: '20250505T050505Z' } as const;
      expect(await pool.get(ref.name, ref.arch, ref.version)).toEqual({ ...ref, parent: null, sizeBytes: 0, publishedAt: '2025-05-05T05:05:05.000Z', source: 'unknown', path: received });
      const adopted = await pool.adopt(ref, { parent: '20250404T040404Z', sizeBytes: 42, publishedAt: '2025-05-05T05:05:06.000Z', source: 'pull:http://10.0.0.1' });
      expect(adopted).toEqual({ ...ref, parent: '20250404T040404Z', sizeBytes: 42, publishedAt: '2025-05-05T05:05:06.000Z', source: 'pull:http://10.0.0.1', path: received });
      expect(JSON.parse(await readFile(join(pool.root, `.trowel/${ref.name}/x86_64/${ref.version}.json`), 'utf8')).source).toBe('pull:http://10.0.0.1');
      await expect(pool.adopt({ ...ref, version: '20250505T050506Z' }, { parent: null, sizeBytes: 0, publishedAt: '2025-05-05T05:05:06.000Z', source: 'x' })).rejects.toMatchObject({ code: 'ENOVERSION' });
    });

    it('does not list a plain directory with a template name, or a sidecar without its subvolume', async () => {
      await mkdir(join(pool.root, '@template:org.example.Fake:x86_64:20250101T000000Z'));
      await mkdir(join(pool.root, '.trowel/org.example.Ghost/x86_64'), { recursive: true });
      await writeFile(join(pool.root, '.trowel/org.example.Ghost/x86_64/20250101T000000Z.json'), JSON.stringify({ name: 'org.example.Ghost', arch: 'x86_64', version: '20250101T000000Z', parent: null, source: 'x', sizeBytes: 1, publishedAt: '2025-01-01T00:00:00Z' }));
      const names = (await pool.list()).map((v) => v.name);
      expect(names).not.toContain('org.example.Fake');
      expect(names).not.toContain('org.example.Ghost');
      expect(await pool.get('org.example.Fake', 'x86_64', '20250101T000000Z')).toBeUndefined();
    });

    it('lists grouped by name and arch, newest first', async () => {
      const list = await pool.list();
      const keys = list.map((v) => `${v.name} ${v.arch} ${v.version}`);
      const sorted = [...keys].sort((a, b) => {
        const [an, aa] = a.split(' ');
        const [bn, ba] = b.split(' ');
        return an! < bn! ? -1 : an! > bn! ? 1 : aa! < ba! ? -1 : aa! > ba! ? 1 : a < b ? 1 : -1;
      });
      expect(keys).toEqual(sorted);
      expect(new Set(list.map((v) => v.name))).toEqual(new Set([NAME, 'org.example.Clock', 'org.example.Chain', 'org.example.Received']));
      expect(records.filter((r) => r.event === 'publish_failed').length).toBeGreaterThan(0);
    });
  });
});
