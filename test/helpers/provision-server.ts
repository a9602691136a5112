/**
 * A real trowel server for tests of the provisioning client and the
 * console: the HTTP app on 127.0.0.1 with a template pool on loop btrfs,
 * a signing key (and its PEM file for `--key`), the machine API with one
 * known machine, and tiny templates made of busybox-static (plus a dpkg
 * status file when asked, for package changes). Also loop devices standing
 * in for a machine's disks. Everything is undone by `close()`, even after a
 * failed test.
 */
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpServer, type HttpServer } from '../../src/http/index.ts';
import { makeFixture, type Fixture } from '../../src/http/test-fixture.ts';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import { initKeys, keyPaths, loadSigningKey, publicKeyBase64, StreamCache, type SigningKey } from '../../src/stream/index.ts';
import { createSubvolume } from '../../src/sys/btrfs.ts';
import { run } from '../../src/sys/run.ts';

export interface ProvisionServerFixture {
  f: Fixture;
  base: string;
  key: SigningKey;
  /** The server's public key as a PEM file (what `trowel tui --key` takes). */
  keyFile: string;
  /** The key in the trowel.key= form. */
  keyBase64: string;
  mac: string;
  token: string;
  /** Publishes a new version of `name` whose /etc/marker says `marker`. */
  publish(name: string, marker: string, options?: { dpkgStatus?: string }): Promise<TemplateVersion>;
  close(): Promise<void>;
}

export async function startProvisionServer(options: { mac?: string } = {}): Promise<ProvisionServerFixture> {
  const f = makeFixture();
  let source: LoopBtrfs | undefined;
  let server: HttpServer | undefined;
  const close = async () => {
    await server?.close();
    await source?.destroy();
    f.cleanup();
  };
  try {
    source = await createLoopBtrfs(384);
    await initKeys(f.dir);
    const key = await loadSigningKey(f.dir);
    let tick = Date.UTC(2026, 10, 22, 2, 37, 10);
    const pool = await TemplatePool.open(join(source.mountpoint, 'pool'), { now: () => new Date((tick += 1000)) });
    const streams = new StreamCache({ cacheDir: join(f.dir, 'cache'), pool, signingKey: key, metrics: f.metrics, log: f.options.log });
    server = await startHttpServer({ ...f.options, pool, streams, bindAddress: '127.0.0.1', port: 0 });
    const mac = options.mac ?? '52:54:00:12:34:56';
    const mnt = source.mountpoint;
    return {
      f, key, mac, close,
      base: `http://127.0.0.1:${server.port}`,
      keyFile: keyPaths(f.dir).publicKeyPath,
      keyBase64: publicKeyBase64(key.publicKey),
      token: f.machines.recordContact({ mac }).token,
      async publish(name, marker, opts = {}) {
        const tree = join(mnt, `work-${name}`);
        await rm(tree, { recursive: true, force: true }).catch(() => {});
        await run('btrfs', ['subvolume', 'delete', tree]).catch(() => {});
        await createSubvolume(tree);
        await makeBootableTree(tree, { marker, dpkgStatus: opts.dpkgStatus });
        return pool.publish({ name, arch: 'x86_64', from: { kind: 'subvolume', path: tree } });
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A root filesystem the deploy step can work on: busybox, identity files, /etc/marker; no GRUB (the bootloader step is skipped). */
export async function makeBootableTree(root: string, options: { marker: string; dpkgStatus?: string }): Promise<void> {
  for (const d of ['bin', 'etc', 'var/log', 'var/lib/dpkg', 'boot', 'home', 'proc', 'sys', 'dev', 'run']) await mkdir(join(root, d), { recursive: true });
  await copyFile('/bin/busybox', join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'cat']) await symlink('busybox', join(root, 'bin', applet));
  await writeFile(join(root, 'etc/hostname'), 'template\n');
  await writeFile(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\ttemplate\n');
  await writeFile(join(root, 'etc/fstab'), '# UNCONFIGURED FSTAB\n');
  await writeFile(join(root, 'etc/machine-id'), 'b08dfa6083e7567a1921a715000001fb\n');
  await writeFile(join(root, 'etc/marker'), `${options.marker}\n`);
  if (options.dpkgStatus) await writeFile(join(root, 'var/lib/dpkg/status'), await readFile(options.dpkgStatus));
}

export interface LoopDisk {
  /** /dev/loopN */
  device: string;
  /** loopN */
  name: string;
  image: string;
  detach(): Promise<void>;
}

/** A sparse image on a loop device with partition scanning, standing in for a machine's disk. */
export async function createLoopDisk(sizeMiB: number): Promise<LoopDisk> {
  const dir = await mkdtemp(join(tmpdir(), 'trowel-disk-'));
  const image = join(dir, 'disk.img');
  await run('truncate', ['-s', `${sizeMiB}M`, image]);
  const device = (await run('losetup', ['--find', '--show', '--partscan', image])).stdout.trim();
  return {
    device, image, name: device.slice('/dev/'.length),
    async detach() {
      await run('losetup', ['--detach', device]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
