/**
 * The PXE image as built (npm run build:pxe): unpacked with GNU cpio (not
 * our writer), its programs run from the unpacked tree in a chroot (so their
 * libraries must be inside), and the host's kmod resolves modules against
 * the tree's own index (the one busybox's modprobe reads at boot).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPxeImage, readInfo, type BuildInfo, type PxeImage } from '../../appliance/pxe/build.ts';
import { MODULES } from '../../appliance/pxe/contents.ts';
import { run } from '../../src/sys/run.ts';
import { VERSION } from '../../src/version.ts';

/** Building from scratch compresses ~150 MiB with xz -9e: minutes on a busy 2-core machine. */
const BUILD_TIMEOUT_MS = 900_000;

describe('PXE image (npm run build:pxe)', () => {
  let image: PxeImage;
  let info: BuildInfo;
  let tree: string;
  /** `cpio -itv` lines by path. */
  const listing = new Map<string, string>();

  beforeAll(async () => {
    image = await buildPxeImage();
    info = (await readInfo(image.info))!;
    tree = await mkdtemp(join(tmpdir(), 'trowel-pxe-tree-'));
    const unpack = (args: string[]) => {
      const r = spawnSync('sh', ['-c', `${info.compression === 'xz' ? 'xz' : 'zstd'} -dc "$1" | cpio ${args.join(' ')}`, 'sh', image.initrd], {
        cwd: tree, maxBuffer: 64 * 2 ** 20, encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`unpacking ${image.initrd} failed: ${r.stderr}`);
      return r.stdout;
    };
    for (const line of unpack(['-itv', '--quiet']).split('\n').filter(Boolean)) {
      // The path follows the date ("Jan  1  1970"); a device has "major, minor" where a file has a size.
      const path = /\s[A-Z][a-z]{2}\s+\d+\s+(?:\d{4}|\d\d:\d\d) (.*)$/.exec(line)?.[1] ?? line;
      listing.set(path.replace(/ -> .*$/, ''), line);
    }
    unpack(['-idm', '--quiet', '--no-absolute-filenames']);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (tree) await rm(tree, { recursive: true, force: true });
  });

  it('buildPxeImage reuses an up-to-date image and records its sizes', async () => {
    const again = await buildPxeImage();
    expect(again.built).toBe(false);
    expect(info.kernelBytes).toBe((await stat(image.kernel)).size);
    expect(info.initrdBytes).toBe((await stat(image.initrd)).size);
    expect(info.totalBytes).toBe(info.kernelBytes + info.initrdBytes);
    expect(info.version).toBe(VERSION);
  });

  it('the initramfs is compressed in a format the kernel unpacks', async () => {
    const magic = (await readFile(image.initrd)).subarray(0, 6).toString('hex');
    // xz: FD 37 7A 58 5A 00; zstd frame: 28 B5 2F FD.
    expect(['fd377a585a00', '28b52ffd']).toContain(info.compression === 'xz' ? magic : magic.slice(0, 8));
    const config = await readFile(`/boot/config-${info.kernelVersion}`, 'utf8');
    expect(config).toMatch(info.compression === 'xz' ? /^CONFIG_RD_XZ=y$/m : /^CONFIG_RD_ZSTD=y$/m);
  });

  it('holds /init, /dev/console and the merged-/usr links, all owned by root', () => {
    expect(listing.get('init')).toMatch(/^-rwxr-xr-x\s+1 root\s+root /);
    expect(listing.get('dev/console')).toMatch(/^crw-------\s+1 root\s+root\s+5,\s+1 /);
    for (const [link, target] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']]) {
      expect(listing.get(link!)).toMatch(new RegExp(`^l.* ${link} -> ${target}$`));
    }
    const owners = [...listing.values()].filter((l) => !/^\S+\s+\d+ root\s+root /.test(l));
    expect(owners).toEqual([]);
  });

  it('holds the tools the provisioning client runs, and the overlay', async () => {
    const required = [
      'usr/bin/trowel', 'usr/bin/busybox', 'usr/bin/dash', 'usr/bin/btrfs', 'usr/sbin/mkfs.btrfs',
      'usr/sbin/sfdisk', 'usr/sbin/blkid', 'usr/sbin/wipefs', 'usr/bin/lsblk', 'usr/sbin/mkfs.fat',
      'usr/sbin/chroot', 'usr/bin/mount', 'usr/bin/umount',
      'usr/lib64/ld-linux-x86-64.so.2', 'usr/lib/x86_64-linux-gnu/libc.so.6', 'usr/lib/x86_64-linux-gnu/libstdc++.so.6',
      'etc/udhcpc/default.script', 'etc/trowel/modules', 'etc/passwd', 'usr/share/terminfo/l/linux', 'usr/share/terminfo/v/vt220',
    ];
    expect(required.filter((p) => !listing.has(p))).toEqual([]);
    expect(listing.get('etc/udhcpc/default.script')).toMatch(/^-rwxr-xr-x/);
    expect(await readlink(join(tree, 'usr/bin/sh'))).toBe('dash');
    expect(await readlink(join(tree, 'usr/sbin/modprobe'))).toBe('../bin/busybox');
    expect(await readlink(join(tree, 'usr/sbin/mkfs.vfat'))).toBe('mkfs.fat');
    // busybox fills in the rest, but never shadows a real program.
    expect(await readlink(join(tree, 'usr/sbin/udhcpc'))).toBe('../bin/busybox');
    expect(await readlink(join(tree, 'usr/bin/ash'))).toBe('busybox');
    expect((await readFile(join(tree, 'etc/trowel-release'), 'utf8')).trim()).toBe(VERSION);
    expect(await readFile(join(tree, 'init'), 'utf8')).toBe(await readFile('buildroot-overlay/init', 'utf8'));
  });

  it('every program runs from the tree in a chroot (its libraries are inside)', async () => {
    const commands: string[][] = [
      ['/usr/bin/trowel', '--version'],
      ['/usr/bin/btrfs', '--version'],
      ['/usr/sbin/mkfs.btrfs', '--version'],
      ['/usr/sbin/sfdisk', '--version'],
      ['/usr/sbin/blkid', '--version'],
      ['/usr/sbin/wipefs', '--version'],
      ['/usr/bin/lsblk', '--version'],
      ['/usr/bin/findmnt', '--version'],
      ['/usr/sbin/blockdev', '--version'],
      ['/usr/bin/mount', '--version'],
      ['/usr/bin/umount', '--version'],
      ['/usr/sbin/chroot', '--version'],
      ['/bin/sh', '-c', 'echo dash ok'],
      ['/usr/sbin/udhcpc', '--help'],
    ];
    const outputs: string[] = [];
    for (const command of commands) {
      // --help of a busybox applet exits 0; every other one prints a version and exits 0.
      const { stdout, stderr } = await run('chroot', [tree, ...command]);
      outputs.push(`${command.join(' ')}: ${(stdout + stderr).split('\n')[0]}`);
    }
    expect(outputs[0]).toBe(`/usr/bin/trowel --version: trowel ${VERSION}`);
    expect(outputs.join('\n')).toMatch(/btrfs --version: btrfs-progs v\d/);
    expect(outputs.join('\n')).toMatch(/sfdisk --version: sfdisk from util-linux/);
    expect(outputs.join('\n')).toMatch(/-c echo dash ok: dash ok/);
    // mkfs.fat has no --version: run it on nothing and expect its usage, not a loader error.
    const fat = await run('chroot', [tree, '/usr/sbin/mkfs.fat'], { okCodes: [1] });
    expect(fat.stderr).toMatch(/^Usage: \S*mkfs\.fat /m);
  });

  it('modprobe resolves every listed module with its dependencies against the tree', async () => {
    const { stdout } = await run('modprobe', ['--dirname', tree, '--set-version', info.kernelVersion, '--show-depends', '--all', ...MODULES]);
    // kmod prints paths under --dirname, i.e. inside the tree.
    const files = [...stdout.matchAll(/^insmod (\S+)/gm)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThanOrEqual(MODULES.length);
    expect(files.filter((f) => !f.startsWith(`${tree}/lib/modules/`))).toEqual([]);
    for (const f of files) expect((await stat(f)).isFile()).toBe(true);
    // btrfs with its hard dependencies and its softdeps (checksum drivers).
    const btrfs = (await run('modprobe', ['-d', tree, '-S', info.kernelVersion, '--show-depends', 'btrfs'])).stdout;
    for (const m of ['libcrc32c', 'zstd_compress', 'raid6_pq', 'xor', 'crc32c_generic', 'blake2b_generic', 'btrfs']) {
      expect(btrfs).toMatch(new RegExp(`/${m.replace('_', '[_-]')}\\.ko\\b`));
    }
  });

  it("the tree's modules.alias maps device modaliases to drivers (coldplug at boot)", async () => {
    const resolve = async (alias: string) =>
      (await run('modprobe', ['-d', tree, '-S', info.kernelVersion, '--resolve-alias', alias])).stdout.trim().split('\n');
    // virtio device 1 (network) on any vendor; QEMU's AHCI (ICH9); an NVMe controller by class.
    expect(await resolve('virtio:d00000001v00001AF4')).toEqual(['virtio_net']);
    expect(await resolve('pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01')).toContain('ahci');
    expect(await resolve('pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02')).toContain('nvme');
    expect(await resolve('fs-btrfs')).toEqual(['btrfs']);
  });

  it('depmod over the tree reproduces the modules.dep the image ships', async () => {
    const dir = join(tree, 'usr/lib/modules', info.kernelVersion);
    const shipped = await readFile(join(dir, 'modules.dep'), 'utf8');
    const { stdout } = await run('depmod', ['-n', '-b', tree, info.kernelVersion]);
    // depmod -n prints every index to stdout; modules.dep comes first, up to the first "#" comment.
    const fresh = stdout.slice(0, stdout.search(/^#/m));
    expect(fresh.trim().split('\n').sort()).toEqual(shipped.trim().split('\n').sort());
    // Every shipped module is known to the index (no stray, unloadable files).
    const listed = new Set(shipped.split('\n').filter(Boolean).map((l) => l.split(':')[0]));
    const onDisk = [...listing.keys()].filter((p) => p.endsWith('.ko')).map((p) => p.replace(`usr/lib/modules/${info.kernelVersion}/`, ''));
    expect(onDisk.filter((p) => !listed.has(p))).toEqual([]);
    expect(onDisk.length).toBe(info.modules);
  });
});
