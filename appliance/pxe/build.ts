/**
 * `npm run build:pxe`: the PXE image trowel serves to the machines it
 * provisions, assembled from this Debian host's own packages:
 *
 *   dist/pxe/vmlinuz     Debian's kernel (/boot/vmlinuz-<newest>)
 *   dist/pxe/initramfs   cpio (newc), xz-compressed: busybox, dash, btrfs-progs,
 *                        util-linux, dosfstools, their libraries, the
 *                        kernel modules for disks/NICs/btrfs/vfat, dist/trowel,
 *                        and buildroot-overlay/ (/init and its configuration)
 *   dist/pxe/build.json  what was built: versions, sizes, compression, seconds
 *
 *   node appliance/pxe/build.ts [outDir] [--compression xz|zstd] [--force]
 *
 * Idempotent: when every output is newer than every input, nothing is done.
 * One build at a time per output directory (build-lock.ts).
 * dist/trowel is built first (npm run build) when it is missing or older than
 * its sources.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TrowelError } from '../../src/errors.ts';
import { run } from '../../src/sys/run.ts';
import { VERSION } from '../../src/version.ts';
import { withBuildLock } from './build-lock.ts';
import { compressFile, type Compression } from './compress.ts';
import { DATA_FILES, MODULES, PROGRAMS, TERMINFO, TERMINFO_DIRS } from './contents.ts';
import { writeCpioFile } from './cpio.ts';
import { sharedLibraries } from './libraries.ts';
import { modulesDir, resolveModules } from './modules.ts';
import { stageImage, treeEntries } from './stage.ts';
import { newestKernel } from '../host-kernel.ts';
import { isUpToDate } from '../up-to-date.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
export const OVERLAY = join(ROOT, 'buildroot-overlay');
const TROWEL_BINARY = join(ROOT, 'dist/trowel');
/** What the binary is bundled from (appliance/build-binary.ts). */
const BINARY_SOURCE_DIRS = ['src', 'tui'];
const BINARY_BUILD_FILES = ['package-lock.json', 'appliance/build-binary.ts', 'appliance/blessed-bundle.ts', 'appliance/terminfo.ts'];
/** The size the issue asks kernel + initramfs to stay under. */
export const SIZE_GOAL_BYTES = 40 * 2 ** 20;

export interface PxeImage {
  kernel: string;
  initrd: string;
  /** dist/pxe/build.json: the record of the last build. */
  info: string;
  /** False when the outputs were already up to date. */
  built: boolean;
}

export interface BuildInfo {
  version: string;
  kernelVersion: string;
  compression: Compression;
  kernelBytes: number;
  initrdBytes: number;
  /** The uncompressed cpio archive. */
  cpioBytes: number;
  totalBytes: number;
  seconds: number;
  modules: number;
  files: number;
}

export interface BuildOptions {
  outDir?: string;
  compression?: Compression;
  /** Rebuild even when up to date. */
  force?: boolean;
  /** The trowel executable to ship (default dist/trowel, built when missing or stale). */
  trowel?: string;
}

/** Builds (or reuses) the image; see the file comment. */
export async function buildPxeImage(options: BuildOptions = {}): Promise<PxeImage> {
  const out = resolve(options.outDir ?? join(ROOT, 'dist/pxe'));
  const compression = options.compression ?? 'xz';
  const image: PxeImage = { kernel: join(out, 'vmlinuz'), initrd: join(out, 'initramfs'), info: join(out, 'build.json'), built: false };

  const trowel = options.trowel ?? await ensureTrowelBinary();
  const sourceKernel = await newestKernel('the PXE image');
  const kernelVersion = sourceKernel.slice(sourceKernel.lastIndexOf('vmlinuz-') + 'vmlinuz-'.length);
  if (!existsSync(modulesDir(kernelVersion))) {
    throw new TrowelError('EPXEBUILD', `Cannot build the PXE image: ${sourceKernel} has no modules in ${modulesDir(kernelVersion)}`);
  }
  const programs = await presentPrograms();
  const libraries = await sharedLibraries([...programs, trowel]);
  const modules = (await resolveModules(kernelVersion, MODULES)).files;
  const terminfo = TERMINFO.map((t) => TERMINFO_DIRS.map((d) => join(d, t)).find((p) => existsSync(p))).filter((p) => p !== undefined);
  const overlayFiles = await listFiles(OVERLAY);
  const sources = (await readdir(HERE)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => join(HERE, f));

  const inputs = [sourceKernel, trowel, ...programs, ...libraries, ...DATA_FILES, ...modules, ...terminfo, ...overlayFiles, ...sources];
  await mkdir(out, { recursive: true });
  return withBuildLock(join(out, '.build.lock'), async () => {
    const previous = await readInfo(image.info);
    const upToDate = !options.force && previous?.compression === compression &&
      await isUpToDate([image.kernel, image.initrd, image.info], inputs);
    if (upToDate) return image;

    const started = performance.now();
    // No record while outputs change: a build that fails half-way is redone next time.
    await rm(image.info, { force: true });
    const stage = await mkdtemp(join(tmpdir(), 'trowel-pxe-'));
    const cpio = join(out, '.initramfs.cpio');
    try {
      await stageImage(stage, {
        programs, libraries, dataFiles: DATA_FILES, trowel, kernelVersion, modules, terminfo, overlay: OVERLAY, release: VERSION,
      });
      const entries = await treeEntries(stage);
      const cpioBytes = await writeCpioFile(entries, cpio);
      // Renames, so a VM started meanwhile reads an old file or a new one, never half of one.
      await rename(await compressFile(cpio, compression), image.initrd);
      await copyFile(sourceKernel, `${image.kernel}.tmp`);
      await rename(`${image.kernel}.tmp`, image.kernel);

      const kernelBytes = (await stat(image.kernel)).size;
      const initrdBytes = (await stat(image.initrd)).size;
      const info: BuildInfo = {
        version: VERSION, kernelVersion, compression, kernelBytes, initrdBytes, cpioBytes,
        totalBytes: kernelBytes + initrdBytes,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        modules: modules.length,
        files: entries.length,
      };
      // Written last: its mtime marks a complete build.
      await writeFile(image.info, JSON.stringify(info, null, 2) + '\n');
      return { ...image, built: true };
    } finally {
      await rm(stage, { recursive: true, force: true });
      await rm(cpio, { force: true });
    }
  });
}

/** Reads build.json, or undefined when there is none (or it is unreadable). */
export async function readInfo(file: string): Promise<BuildInfo | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as BuildInfo;
  } catch {
    return undefined;
  }
}

/** One line per size, in MiB, with the goal; what `npm run build:pxe` prints. */
export function formatSizes(info: BuildInfo): string {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const verdict = info.totalBytes <= SIZE_GOAL_BYTES ? 'within' : 'OVER';
  return [
    `vmlinuz    ${mib(info.kernelBytes)}  (Debian ${info.kernelVersion})`,
    `initramfs  ${mib(info.initrdBytes)}  (${info.compression}; ${mib(info.cpioBytes)} unpacked, ${info.files} files, ${info.modules} modules)`,
    `total      ${mib(info.totalBytes)}  (${verdict} the ${mib(SIZE_GOAL_BYTES)} goal)`,
    `built in   ${info.seconds} s`,
  ].join('\n');
}

/**
 * dist/trowel, rebuilt when it is older than what goes into it. Built only
 * when missing, a stale binary from an earlier checkout went into the image,
 * and a lab's guests then spoke an older multicast protocol than its server
 * (an e2e run outside `npm test`, which builds first, heard no session).
 */
async function ensureTrowelBinary(): Promise<string> {
  const bundled = (await Promise.all(BINARY_SOURCE_DIRS.map((d) => listFiles(join(ROOT, d)))))
    .flat()
    .filter((f) => !f.endsWith('.test.ts'));
  const inputs = [...bundled, ...BINARY_BUILD_FILES.map((f) => join(ROOT, f))];
  if (!(await isUpToDate([TROWEL_BINARY], inputs))) {
    await run(process.execPath, [join(ROOT, 'appliance/build-binary.ts')], { cwd: ROOT });
  }
  return TROWEL_BINARY;
}

/** The listed programs, each of which must exist (scripts/install-deps.sh installs their packages). */
async function presentPrograms(): Promise<string[]> {
  const missing = [...PROGRAMS, ...DATA_FILES].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new TrowelError('EPXEBUILD', `Cannot build the PXE image: ${missing.join(', ')} not installed`, {
      hint: 'run scripts/install-deps.sh (btrfs-progs, fdisk, util-linux, dosfstools, dash)',
    });
  }
  return [...PROGRAMS];
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { compression: { type: 'string' }, force: { type: 'boolean' } },
  });
  const compression = values.compression ?? 'xz';
  if (compression !== 'xz' && compression !== 'zstd') {
    process.stderr.write(`build:pxe: Cannot build the PXE image: --compression ${compression} is not xz or zstd\n`);
    process.exit(2);
  }
  try {
    const image = await buildPxeImage({ outDir: positionals[0], compression, force: values.force });
    const info = await readInfo(image.info);
    process.stdout.write(`${image.built ? 'built' : 'up to date'}: ${image.kernel} ${image.initrd}\n`);
    if (info) process.stdout.write(formatSizes(info) + '\n');
  } catch (e) {
    process.stderr.write(`build:pxe: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
