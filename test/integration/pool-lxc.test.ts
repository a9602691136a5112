import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { TemplatePool } from '../../src/pool/index.ts';
import { isSubvolume, showSubvolume } from '../../src/sys/btrfs.ts';
import { run } from '../../src/sys/run.ts';
import { treeSnapshot } from '../helpers/tree-snapshot.ts';

const HOOK = `#!/bin/sh
set -e
rm -f /etc/machine-id
echo "prepared $TROWEL_TEMPLATE" > /root/prepared
`;

describe('TemplatePool publishing LXC containers (lxc-create -B btrfs -t busybox, offline)', () => {
  let fs: LoopBtrfs;
  let lxcPath: string;
  let pool: TemplatePool;
  const containers: string[] = [];

  const create = async (name: string, backing: 'btrfs' | 'dir') => {
    containers.push(name);
    await run('lxc-create', ['-n', name, '-P', lxcPath, '-B', backing, '-t', 'busybox'], { timeoutMs: 60_000 });
    return join(lxcPath, name, 'rootfs');
  };

  beforeAll(async () => {
    fs = await createLoopBtrfs(256);
    lxcPath = join(fs.mountpoint, 'lxc');
    await mkdir(lxcPath);
    pool = await TemplatePool.open(join(fs.mountpoint, 'pool'));
  });
  afterAll(async () => {
    for (const name of containers) {
      await run('lxc-stop', ['-n', name, '-P', lxcPath, '-k'], { timeoutMs: 30_000 }).catch(() => {});
      await run('lxc-destroy', ['-n', name, '-P', lxcPath], { timeoutMs: 30_000 }).catch(() => {});
    }
    await fs?.destroy();
  });

  it('snapshots the rootfs subvolume of a stopped btrfs-backed container and runs its hooks', async () => {
    const rootfs = await create('web', 'btrfs');
    // The container really is on the btrfs backing store: its rootfs is a subvolume, and its config says so.
    expect(await readFile(join(lxcPath, 'web/config'), 'utf8')).toContain(`lxc.rootfs.path = btrfs:${rootfs}\n`);
    expect(await isSubvolume(rootfs)).toBe(true);
    await writeFile(join(rootfs, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
    await mkdir(join(rootfs, 'etc/trowel/prepare.d'), { recursive: true });
    await writeFile(join(rootfs, 'etc/trowel/prepare.d/10-scrub'), HOOK);
    await chmod(join(rootfs, 'etc/trowel/prepare.d/10-scrub'), 0o755);
    const before = await treeSnapshot(rootfs);

    const version = await pool.publish({ name: 'org.example.Web', arch: 'x86_64', from: { kind: 'lxc', name: 'web', lxcPath } });

    expect(version.source).toBe(`lxc:${lxcPath}/web`);
    expect((await showSubvolume(version.path)).parentUuid).toBe((await showSubvolume(rootfs)).uuid);
    expect((await showSubvolume(version.path)).readonly).toBe(true);
    const expected = { ...before };
    delete expected['etc/machine-id'];
    const actual = await treeSnapshot(version.path);
    expect(actual['root/prepared']).toMatchObject({ type: 'f', size: 'prepared org.example.Web\n'.length });
    delete actual['root/prepared'];
    expect(actual).toEqual(expected);
    expect(actual['bin/busybox']?.type).toBe('f');
    // The container itself is untouched.
    expect(await treeSnapshot(rootfs)).toEqual(before);
  });

  it('refuses a running container and leaves nothing behind', async () => {
    const rootfs = await create('live', 'btrfs');
    expect(await isSubvolume(rootfs)).toBe(true);
    // Start it without a network bridge (none exists here) or an AppArmor profile.
    const config = join(lxcPath, 'live/config');
    const text = (await readFile(config, 'utf8'))
      .split('\n')
      .filter((l) => !/^lxc\.(net\.0\.(link|flags)|apparmor\.)/.test(l))
      .map((l) => (l.startsWith('lxc.net.0.type') ? 'lxc.net.0.type = empty' : l))
      .join('\n');
    await writeFile(config, `${text}\nlxc.apparmor.profile = unconfined\n`);
    await run('lxc-start', ['-n', 'live', '-P', lxcPath, '-d'], { timeoutMs: 30_000 });
    await run('lxc-wait', ['-n', 'live', '-P', lxcPath, '-s', 'RUNNING', '-t', '20']);

    await expect(pool.publish({ name: 'org.example.Live', arch: 'x86_64', from: { kind: 'lxc', name: 'live', lxcPath } })).rejects.toMatchObject({
      code: 'ERUNNING',
      message: 'Cannot publish from LXC container live: it is RUNNING',
      hint: `stop it first: lxc-stop -n live -P ${lxcPath}`,
    });
    expect(await pool.list({ name: 'org.example.Live' })).toEqual([]);
    expect((await readdir(pool.root)).filter((e) => e.startsWith('.staging.'))).toEqual([]);
    await run('lxc-stop', ['-n', 'live', '-P', lxcPath, '-k'], { timeoutMs: 30_000 });
  });

  it('copies the rootfs of a container on the dir backing store', async () => {
    const rootfs = await create('plain', 'dir');
    expect(await isSubvolume(rootfs)).toBe(false);
    const version = await pool.publish({ name: 'org.example.Plain', arch: 'x86_64', from: { kind: 'lxc', name: 'plain', lxcPath } });
    expect((await showSubvolume(version.path)).parentUuid).toBeUndefined();
    expect(await treeSnapshot(version.path)).toEqual(await treeSnapshot(rootfs));
  });

  it('refuses a container that does not exist', async () => {
    await expect(pool.publish({ name: 'org.example.Web', arch: 'x86_64', from: { kind: 'lxc', name: 'nope', lxcPath } })).rejects.toMatchObject({
      code: 'ENOCONTAINER',
      message: `Cannot publish from LXC container nope: it does not exist in ${lxcPath}`,
    });
    await expect(pool.publish({ name: 'org.example.Web', arch: 'x86_64', from: { kind: 'lxc', name: '../web', lxcPath } })).rejects.toMatchObject({ code: 'EBADSOURCE' });
  });
});
