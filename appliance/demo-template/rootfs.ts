/**
 * Builds the demo template's root filesystem: a minimal but real Debian
 * (the host's release, from the host's mirror) with a kernel, GRUB for BIOS
 * and UEFI, systemd, btrfs-progs, and the files in ./overlay (marker unit,
 * serial console, prepare/deploy hooks, GRUB defaults).
 *
 * The tree is made in `<workDir>/rootfs.build.<pid>` and renamed to
 * `<workDir>/rootfs` only once it is complete and checked, with a stamp
 * (`rootfs.json`) holding the fingerprint of its inputs; a later build with
 * the same inputs reuses it. debootstrap keeps the .debs in `cacheDir`, so
 * even a rebuild downloads nothing new.
 */
import { access, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TrowelError } from '../../src/errors.ts';
import { runInChroot } from '../../src/sys/chroot.ts';
import { run } from '../../src/sys/run.ts';
import { apparentSize } from '../../src/sys/tree.ts';
import { readHostAptSource, type AptSource } from './apt-source.ts';
import { inputsFingerprint, readStamp, writeStamp } from './stamp.ts';
import { copyOverlay } from './overlay.ts';
import { removeTree, staleBuildDirs } from './work-dir.ts';

export const DEMO_TEMPLATE_NAME = 'org.trowel.Demo';
export const DEMO_TEMPLATE_ARCH = 'x86_64';
/** Debian's name for the arch the template is built for. */
const DEBIAN_ARCH = 'amd64';

/**
 * What `--include` adds to minbase. GRUB comes as the -bin packages plus
 * grub2-common (grub-install, grub-mkconfig, /etc/grub.d): the grub-pc and
 * grub-efi-amd64 packages would run grub-install on the build host's disks
 * in their postinst; the deploy step installs GRUB on the machine's own.
 * btrfs-progs brings the initramfs-tools hook that puts btrfs into the initrd.
 * dbus and libpam-systemd (systemd's recommends, which debootstrap skips)
 * make logind, hostnamectl and loginctl work as on any Debian install.
 */
export const DEMO_PACKAGES = [
  'linux-image-amd64', 'initramfs-tools', 'zstd', 'udev', 'kmod', 'systemd-sysv', 'dbus', 'libpam-systemd',
  'grub-pc-bin', 'grub-efi-amd64-bin', 'grub2-common', 'grub-common',
  'btrfs-progs', 'dosfstools',
] as const;

export interface BuildOptions {
  /** Holds `rootfs/`, its stamp and the build directory (e.g. dist/demo-template). */
  workDir: string;
  /** debootstrap's .deb cache (e.g. ~/.cache/trowel/debootstrap). */
  cacheDir: string;
  onProgress?: (line: string) => void;
  /** Build even when the inputs match the existing rootfs. */
  rebuild?: boolean;
  /** Where the host's apt configuration is read (default /; tests). */
  aptRoot?: string;
}

export interface DemoRootfs {
  /** Absolute path of the finished tree. */
  rootfs: string;
  /** False when an existing tree with the same inputs was reused. */
  built: boolean;
  apt: AptSource;
  /** Apparent size of the tree in bytes. */
  sizeBytes: number;
  /** How long the build that made it took. */
  buildSeconds: number;
  /** Kernel release of the tree, e.g. 6.1.0-44-amd64. */
  kernelRelease: string;
}

export async function buildDemoTemplate(options: BuildOptions): Promise<DemoRootfs> {
  const progress = options.onProgress ?? (() => {});
  const workDir = resolve(options.workDir);
  const cacheDir = resolve(options.cacheDir);
  const rootfs = join(workDir, 'rootfs');
  const apt = await readHostAptSource(options.aptRoot);
  const fingerprint = await inputsFingerprint({ apt, packages: DEMO_PACKAGES, arch: DEBIAN_ARCH });

  const stamp = await readStamp(workDir);
  if (!options.rebuild && stamp?.fingerprint === fingerprint && (await exists(join(rootfs, 'etc/trowel/template')))) {
    progress(`demo template rootfs is up to date: ${rootfs}`);
    return { rootfs, built: false, apt, sizeBytes: stamp.sizeBytes, buildSeconds: stamp.buildSeconds, kernelRelease: stamp.kernelRelease };
  }

  await mkdir(workDir, { recursive: true });
  await mkdir(cacheDir, { recursive: true });
  for (const stale of await staleBuildDirs(workDir)) {
    progress(`removing an unfinished build: ${stale}`);
    await removeTree(stale);
  }
  const staging = join(workDir, `rootfs.build.${process.pid}`);
  const started = Date.now();
  try {
    progress(`debootstrap ${apt.suite} from ${apt.uri} (${apt.origin}); .debs cached in ${cacheDir}`);
    await debootstrap(staging, apt, cacheDir, progress);
    progress('customizing: overlay, hooks, marker unit, serial console');
    await customize(staging);
    progress('checking: kernel, initramfs with btrfs, GRUB for BIOS and UEFI');
    const kernelRelease = await checkTree(staging);
    const sizeBytes = await apparentSize(staging);
    const buildSeconds = Math.round((Date.now() - started) / 1000);

    if (await exists(rootfs)) {
      const old = join(workDir, `rootfs.old.${process.pid}`);
      await rename(rootfs, old);
      await removeTree(old);
    }
    await rename(staging, rootfs);
    await writeStamp(workDir, { fingerprint, builtAt: new Date().toISOString(), sizeBytes, buildSeconds, kernelRelease, apt });
    progress(`built ${rootfs}: ${(sizeBytes / 2 ** 20).toFixed(0)} MiB in ${buildSeconds} s (kernel ${kernelRelease})`);
    return { rootfs, built: true, apt, sizeBytes, buildSeconds, kernelRelease };
  } catch (e) {
    await removeTree(staging).catch(() => {});
    throw e;
  }
}

/** @private debootstrap with progress: phases as they come, per-package lines every 25 packages. */
async function debootstrap(target: string, apt: AptSource, cacheDir: string, progress: (line: string) => void): Promise<void> {
  const counts = new Map<string, number>();
  let pending = '';
  const onOutput = (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const info = /^I: (.*)$/.exec(line.trim())?.[1];
      if (info === undefined) continue;
      const perPackage = /^(Retrieving|Validating|Extracting|Unpacking|Configuring) (\S+?)(?: \S+)?\.*$/.exec(info);
      if (perPackage?.[1] === undefined) {
        progress(`debootstrap: ${info}`);
        continue;
      }
      const n = (counts.get(perPackage[1]) ?? 0) + 1;
      counts.set(perPackage[1], n);
      if (n % 25 === 1) progress(`debootstrap: ${perPackage[1].toLowerCase()} ${perPackage[2]} (package ${n})`);
    }
  };
  const args = [
    '--variant=minbase', `--arch=${DEBIAN_ARCH}`, '--components=main',
    `--include=${DEMO_PACKAGES.join(',')}`, `--cache-dir=${cacheDir}`,
    ...(apt.keyring ? [`--keyring=${apt.keyring}`] : []),
    apt.suite, target, apt.uri,
  ];
  await run('debootstrap', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C.UTF-8', PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}` },
    timeoutMs: 60 * 60_000,
    onOutput,
  });
}

/** Environment for programs run in the tree: no host locale or paths leak in. */
const CHROOT_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive' };

/**
 * Files already installed before the dpkg excludes in the overlay existed:
 * the same paths, removed by hand (docs, manuals, translations; copyright stays).
 */
const TRIM_SCRIPT = [
  'set -e',
  'find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete',
  'find /usr/share/doc -mindepth 1 -depth -type d -empty -delete',
  'rm -rf /usr/share/man/* /usr/share/info/* /usr/share/lintian/*',
  'find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +',
].join('\n');

/** @private */
async function customize(root: string): Promise<void> {
  await copyOverlay(root);
  await mkdir(join(root, 'etc/trowel'), { recursive: true });
  await writeFile(join(root, 'etc/trowel/template'), `${DEMO_TEMPLATE_NAME}\n`, { mode: 0o644 });
  const inTree = (command: string[]) => runInChroot(root, command, { env: CHROOT_ENV, timeoutMs: 10 * 60_000 });
  await inTree(['sh', '-c', TRIM_SCRIPT]);
  await inTree(['passwd', '--lock', 'root']);
  await inTree(['systemctl', 'enable', 'trowel-marker.service']);
  // Again, now with the overlay's initramfs settings and every hook installed.
  await inTree(['update-initramfs', '-u', '-k', 'all']);
  await inTree(['apt-get', 'clean']);
}

/** @private Refuses a tree the deploy step could not boot; returns its kernel release. */
async function checkTree(root: string): Promise<string> {
  const kernels = (await readdir(join(root, 'boot'))).filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice('vmlinuz-'.length));
  const release = kernels.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
  if (release === undefined) throw new TrowelError('EBADTEMPLATE', `Cannot build the demo template: ${root}/boot holds no kernel`);
  const { stdout } = await runInChroot(root, ['lsinitramfs', `/boot/initrd.img-${release}`], { env: CHROOT_ENV });
  if (!/\/kernel\/fs\/btrfs\/btrfs\.ko(\.[a-z]+)?$/m.test(stdout)) {
    throw new TrowelError('EBADTEMPLATE', `Cannot build the demo template: /boot/initrd.img-${release} has no btrfs module`, {
      hint: 'btrfs-progs must be installed before update-initramfs runs',
    });
  }
  for (const target of ['i386-pc', 'x86_64-efi']) {
    if (!(await exists(join(root, 'usr/lib/grub', target, 'btrfs.mod')))) {
      throw new TrowelError('EBADTEMPLATE', `Cannot build the demo template: GRUB for ${target} is missing`);
    }
  }
  return release;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
