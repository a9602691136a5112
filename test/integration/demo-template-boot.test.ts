/**
 * The demo template boots: published into a pool on a btrfs disk image laid
 * out as docs/provisioning.md says (`@template:…` plus a writable `@root:…`
 * that is the default subvolume), given a hostname and run through its own
 * deploy hooks, then started in QEMU with its own kernel and initramfs
 * (direct kernel boot: no PXE, no GRUB; the e2e test covers those). The
 * initramfs must find the btrfs root on a virtio disk, systemd must start
 * the marker unit, and the serial console must log root in.
 *
 * Uses the cached build of demo-template.test.ts (see there); ~45–60 s on TCG.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoTemplate, defaultCacheDir, publishDemoTemplate } from '../../appliance/demo-template/build.ts';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { createBridge, createTap, Netns, uniqueName } from '../../src/lab/netns.ts';
import { startVm, type Vm } from '../../src/lab/qemu.ts';
import { TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import { setDefaultSubvolume, snapshot } from '../../src/sys/btrfs.ts';
import { runInChroot } from '../../src/sys/chroot.ts';
import { run } from '../../src/sys/run.ts';

const WORK_DIR = process.env.TROWEL_DEMO_WORK_DIR ?? join(import.meta.dirname, '../../dist/demo-template');
const CACHE_DIR = process.env.TROWEL_DEMO_CACHE_DIR ?? defaultCacheDir();
const HOSTNAME = 'demo-boot-1';
const MAC = '52:54:00:7e:00:d1';

describe('the demo template booted from a btrfs @root subvolume', () => {
  let dir: string | undefined;
  let fs: LoopBtrfs | undefined;
  let ns: Netns | undefined;
  let vm: Vm | undefined;
  let version: TemplateVersion;
  let kernel: string;
  let initrd: string;
  let disk: string;

  beforeAll(async () => {
    const { rootfs, kernelRelease } = await buildDemoTemplate({ workDir: WORK_DIR, cacheDir: CACHE_DIR });
    dir = await mkdtemp(join(tmpdir(), 'trowel-demo-boot-'));
    kernel = join(rootfs, 'boot', `vmlinuz-${kernelRelease}`);
    initrd = join(rootfs, 'boot', `initrd.img-${kernelRelease}`);

    fs = await createLoopBtrfs(2048, 'trowel');
    // The pool is the filesystem's top level, as on a provisioned disk.
    const pool = await TemplatePool.open(fs.mountpoint);
    version = await publishDemoTemplate(pool, rootfs);
    const root = join(fs.mountpoint, `@root:${version.name}:${version.arch}:${version.version}`);
    await snapshot(version.path, root);
    // What the deploy step does before the hooks (docs/provisioning.md), minus fstab and GRUB.
    await writeFile(join(root, 'etc/hostname'), `${HOSTNAME}\n`);
    for (const hook of (await readdir(join(root, 'etc/trowel/deploy.d'))).sort()) {
      await runInChroot(root, [`/etc/trowel/deploy.d/${hook}`], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    }
    await setDefaultSubvolume(root);
    await run('sync', ['-f', fs.mountpoint]);
    await run('mount', ['-o', 'remount,ro', fs.mountpoint]);
    disk = join(dir, 'disk.qcow2');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', fs.device, disk]);
    await fs.destroy();
    fs = undefined;

    ns = await Netns.create();
    await createBridge(ns, 'br0', undefined);
    const tap = uniqueName('t');
    await createTap(ns, tap, 'br0');
    vm = await startVm({
      ns, tap, firmware: 'bios', mac: MAC, memoryMiB: 768,
      disk: { bus: 'virtio', sizeMiB: 2048, file: disk },
      // No rootflags=subvol=: the default subvolume is the root, as after provisioning.
      directBoot: { kernel, initrd, args: 'root=LABEL=trowel rootfstype=btrfs rw console=ttyS0,115200 panic=-1' },
    });
  }, 10 * 60_000);

  afterAll(async () => {
    await vm?.stop();
    await ns?.destroy();
    await fs?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints the marker with the hostname and the template name and version from the root subvolume', async () => {
    const line = await vm!.waitForSerial(/TROWEL-DEPLOYED-OS-BOOTED/, 300_000);
    expect(line).toBe(`TROWEL-DEPLOYED-OS-BOOTED hostname=${HOSTNAME} template=org.trowel.Demo version=${version.version}`);
  }, 320_000);

  it('logs root in on the serial console without a password', async () => {
    await vm!.waitForSerial(new RegExp(`^${HOSTNAME} login: root \\(automatic login\\)`), 120_000);
  }, 130_000);
});
