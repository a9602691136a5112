/**
 * The demo template (appliance/demo-template): a real debootstrap build,
 * checked from the outside with the host's own tools, then published into
 * a pool on a loop btrfs.
 *
 * The build is cached across runs in dist/demo-template (the rootfs) and
 * ~/.cache/trowel/debootstrap (the .debs), the same places
 * `npm run build:demo-template` uses; override with TROWEL_DEMO_WORK_DIR and
 * TROWEL_DEMO_CACHE_DIR. A clean machine pays the first build (~4 min here,
 * downloads included); later runs reuse the tree and take ~1 min (the publish copy).
 */
import { lstat, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoTemplate, defaultCacheDir, publishDemoTemplate, type DemoRootfs } from '../../appliance/demo-template/build.ts';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import { deleteSubvolume, showSubvolume, snapshot } from '../../src/sys/btrfs.ts';
import { runInChroot } from '../../src/sys/chroot.ts';
import { run } from '../../src/sys/run.ts';

const WORK_DIR = process.env.TROWEL_DEMO_WORK_DIR ?? join(import.meta.dirname, '../../dist/demo-template');
const CACHE_DIR = process.env.TROWEL_DEMO_CACHE_DIR ?? defaultCacheDir();
const CHROOT_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };

let built: DemoRootfs;
let rootfs: string;

beforeAll(async () => {
  built = await buildDemoTemplate({ workDir: WORK_DIR, cacheDir: CACHE_DIR });
  rootfs = built.rootfs;
}, 30 * 60_000);

/** The newest kernel release in the tree, from /boot, by name. */
async function kernelRelease(): Promise<string> {
  const releases = (await readdir(join(rootfs, 'boot'))).filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice(8));
  expect(releases.length).toBeGreaterThan(0);
  return releases.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1)!;
}

describe('buildDemoTemplate', () => {
  it('reuses the finished tree when its inputs have not changed', async () => {
    const started = Date.now();
    const again = await buildDemoTemplate({ workDir: WORK_DIR, cacheDir: CACHE_DIR });
    expect(again.built).toBe(false);
    expect(again.rootfs).toBe(rootfs);
    expect(again.kernelRelease).toBe(await kernelRelease());
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('makes a kernel and an initramfs that mounts a btrfs root from virtio, SATA or NVMe disks', async () => {
    const release = await kernelRelease();
    expect((await stat(join(rootfs, 'boot', `vmlinuz-${release}`))).size).toBeGreaterThan(4 * 2 ** 20);
    // The host's lsinitramfs, not the tree's: an independent reader of the image.
    const { stdout } = await run('lsinitramfs', [join(rootfs, 'boot', `initrd.img-${release}`)]);
    const files = new Set(stdout.split('\n'));
    for (const module of ['fs/btrfs/btrfs.ko', 'drivers/block/virtio_blk.ko', 'drivers/ata/ahci.ko', 'drivers/nvme/host/nvme.ko']) {
      expect(files, module).toContain(`usr/lib/modules/${release}/kernel/${module}`);
    }
    // btrfs-progs' initramfs hook: the tool and the device scan before mounting root.
    expect(files).toContain('usr/bin/btrfs');
    expect(files).toContain('scripts/local-premount/btrfs');
  });

  it('has grub-install and GRUB modules for BIOS (i386-pc) and UEFI (x86_64-efi), and they build images in the tree', async () => {
    for (const tool of ['usr/sbin/grub-install', 'usr/sbin/grub-mkconfig', 'usr/sbin/grub-probe', 'usr/bin/grub-mkimage']) {
      expect((await stat(join(rootfs, tool))).mode & 0o111, tool).not.toBe(0);
    }
    for (const file of ['i386-pc/boot.img', 'i386-pc/biosdisk.mod', 'i386-pc/btrfs.mod', 'x86_64-efi/btrfs.mod', 'x86_64-efi/part_gpt.mod']) {
      expect((await stat(join(rootfs, 'usr/lib/grub', file))).isFile(), file).toBe(true);
    }
    // No grub-pc / grub-efi-amd64: their postinst would run grub-install on the build host.
    const status = await readFile(join(rootfs, 'var/lib/dpkg/status'), 'utf8');
    expect(status).not.toMatch(/^Package: grub-(pc|efi-amd64)$/m);

    const image = (target: string) => `grub-mkimage -O ${target} -p /boot/grub part_gpt btrfs`;
    const { stdout } = await runInChroot(rootfs, ['sh', '-c', [
      'grub-install --version',
      `${image('x86_64-efi')} | head -c 2; echo`,
      `${image('x86_64-efi')} | wc -c`,
      `${image('i386-pc')} | wc -c`,
    ].join('; ')], { env: CHROOT_ENV });
    const [version, efiMagic, efiBytes, biosBytes] = stdout.trim().split('\n');
    expect(version).toMatch(/^grub-install \(GRUB\) 2\./);
    expect(efiMagic).toBe('MZ'); // a PE/COFF executable, what UEFI firmware loads
    expect(Number(efiBytes)).toBeGreaterThan(50_000);
    expect(Number(biosBytes)).toBeGreaterThan(20_000);
  });

  it('enables the marker unit for multi-user.target', async () => {
    const link = join(rootfs, 'etc/systemd/system/multi-user.target.wants/trowel-marker.service');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('/etc/systemd/system/trowel-marker.service');
    const unit = await readFile(join(rootfs, 'etc/systemd/system/trowel-marker.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/sbin\/trowel-marker$/m);
    expect(unit).toMatch(/^WantedBy=multi-user\.target$/m);
    expect((await stat(join(rootfs, 'usr/local/sbin/trowel-marker'))).mode & 0o777).toBe(0o755);
  });

  it('prints the marker line with the template from the tree when the root is not a deployed subvolume', async () => {
    const { stdout } = await runInChroot(rootfs, ['/usr/local/sbin/trowel-marker'], { env: CHROOT_ENV });
    const hostname = (await readFile('/proc/sys/kernel/hostname', 'utf8')).trim();
    expect(stdout.trim()).toBe(`TROWEL-DEPLOYED-OS-BOOTED hostname=${hostname} template=org.trowel.Demo version=unknown`);
  });

  it('has executable prepare and deploy hooks owned by root', async () => {
    for (const hook of ['etc/trowel/prepare.d/10-scrub', 'etc/trowel/deploy.d/10-machine-id', 'etc/trowel/deploy.d/20-hosts']) {
      const st = await stat(join(rootfs, hook));
      expect(st.mode & 0o777, hook).toBe(0o755);
      expect([st.uid, st.gid], hook).toEqual([0, 0]);
    }
  });

  it("uses the host's Debian main source, as apt itself reads it", async () => {
    const codename = /^VERSION_CODENAME=(\S+)$/m.exec(await readFile('/etc/os-release', 'utf8'))?.[1];
    expect(codename).toBeDefined();
    // apt's own view of the host's sources: one record per index target, in sources order.
    const { stdout } = await run('apt-get', ['indextargets', '--format', '$(TARGET_OF) $(COMPONENT) $(RELEASE) $(REPO_URI)']);
    const hostEntry = stdout.split('\n').map((l) => l.split(' ')).find(([of, component, release]) => of === 'deb' && component === 'main' && release === codename);
    expect(hostEntry).toBeDefined();
    const uri = hostEntry![3]!.replace(/\/$/, '');
    const sources = await readFile(join(rootfs, 'etc/apt/sources.list'), 'utf8');
    expect(sources.trim()).toBe(`deb ${uri} ${codename} main`);
  });

  it('puts GRUB and the kernel console on the serial port and the screen', async () => {
    const grub = await readFile(join(rootfs, 'etc/default/grub'), 'utf8');
    expect(grub).toMatch(/^GRUB_CMDLINE_LINUX="console=ttyS0,115200 console=tty0 no_timer_check"$/m);
    expect(grub).toMatch(/^GRUB_TERMINAL="serial console"$/m);
    expect(grub).toMatch(/^GRUB_TIMEOUT=1$/m);
    const autologin = await readFile(join(rootfs, 'etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf'), 'utf8');
    expect(autologin).toMatch(/^ExecStart=-\/sbin\/agetty --autologin root /m);
    // Root's password is locked ("!" first): only the serial autologin gets in.
    expect(await readFile(join(rootfs, 'etc/shadow'), 'utf8')).toMatch(/^root:!/m);
  });

  it('leaves out documentation, manuals and translations, and keeps copyright files', async () => {
    expect(await readdir(join(rootfs, 'usr/share/doc/bash'))).toEqual(['copyright']);
    expect(await readdir(join(rootfs, 'usr/share/man')).catch(() => [])).toEqual([]);
    expect(await readdir(join(rootfs, 'usr/share/locale')).catch(() => [])).toEqual(expect.not.arrayContaining(['de', 'fr']));
    expect(await readFile(join(rootfs, 'etc/dpkg/dpkg.cfg.d/trowel-minimal'), 'utf8')).toMatch(/^path-exclude=\/usr\/share\/doc\/\*$/m);
    expect(await readdir(join(rootfs, 'var/cache/apt/archives'))).not.toEqual(expect.arrayContaining([expect.stringMatching(/\.deb$/)]));
  });
});

describe('publishDemoTemplate into a loop-btrfs pool', () => {
  let fs: LoopBtrfs;
  let pool: TemplatePool;
  let version: TemplateVersion;

  beforeAll(async () => {
    fs = await createLoopBtrfs(2048);
    pool = await TemplatePool.open(join(fs.mountpoint, 'pool'));
    version = await publishDemoTemplate(pool, rootfs);
  }, 10 * 60_000);
  afterAll(async () => {
    await fs?.destroy();
  });

  it('lists org.trowel.Demo for x86_64 as a read-only version copied from the rootfs', async () => {
    const listed = await pool.list({ name: 'org.trowel.Demo' });
    expect(listed.map((v) => [v.name, v.arch, v.version, v.parent, v.source])).toEqual([
      ['org.trowel.Demo', 'x86_64', version.version, null, `dir:${rootfs}`],
    ]);
    expect(listed[0]!.sizeBytes).toBeGreaterThan(200 * 2 ** 20);
    expect((await showSubvolume(version.path)).readonly).toBe(true);
  });

  it('ran the template\'s scrub hook on the copy only', async () => {
    expect((await stat(join(version.path, 'etc/machine-id'))).size).toBe(0);
    expect(await readFile(join(version.path, 'etc/resolv.conf'), 'utf8')).toBe('');
    expect(await readdir(join(version.path, 'var/lib/apt/lists'))).toEqual([]);
    const logs = await run('find', [join(version.path, 'var/log'), '-type', 'f']);
    expect(logs.stdout).toBe('');
    // The build tree keeps its state, so it can be published again.
    expect((await stat(join(rootfs, 'etc/machine-id'))).size).toBeGreaterThan(0);
    expect((await readdir(join(rootfs, 'var/lib/apt/lists'))).length).toBeGreaterThan(0);
  });

  it('deploy hooks give a deployed copy its own machine-id and resolve its hostname, idempotently', async () => {
    const root = join(fs.mountpoint, 'deployed');
    await snapshot(version.path, root);
    try {
      await writeFile(join(root, 'etc/hostname'), 'demo-host-1\n');
      const hooks = (await readdir(join(root, 'etc/trowel/deploy.d'))).sort();
      expect(hooks).toEqual(['10-machine-id', '20-hosts']);
      for (let round = 0; round < 2; round++) {
        for (const hook of hooks) await runInChroot(root, [`/etc/trowel/deploy.d/${hook}`], { env: CHROOT_ENV });
      }
      expect(await readFile(join(root, 'etc/machine-id'), 'utf8')).toMatch(/^[0-9a-f]{32}\n?$/);
      const hosts = await readFile(join(root, 'etc/hosts'), 'utf8');
      expect(hosts.match(/^127\.0\.1\.1\tdemo-host-1$/gm)).toHaveLength(1);
      expect(hosts).toMatch(/^127\.0\.0\.1\s+localhost/m);
    } finally {
      await deleteSubvolume(root);
    }
  });
});

