/**
 * Builds the e2e test boot image: Debian's newest kernel from /boot plus a
 * tiny initramfs (busybox-static and ./init) that prints a marker line with
 * the kernel arguments and powers off. It is what trowel serves over HTTP in
 * test/e2e, so a passing test proves firmware → iPXE → kernel+initramfs.
 *
 *   npx node appliance/test-image/build.ts [outDir]   (default dist/test-image)
 *
 * Idempotent: when both outputs are newer than every input, nothing is done.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { run } from '../../src/sys/run.ts';
import { newestKernel } from '../host-kernel.ts';
import { isUpToDate } from '../up-to-date.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const INIT_SCRIPT = join(HERE, 'init');
const BUSYBOX = '/bin/busybox';

/** The marker the image's /init prints; tests match it on the serial console. */
export const TEST_IMAGE_MARKER = 'TROWEL-TEST-IMAGE-BOOTED';

export interface TestImage {
  /** Absolute path of the kernel (a copy of /boot/vmlinuz-<newest>). */
  kernel: string;
  /** Absolute path of the gzip-compressed cpio (newc) initramfs. */
  initrd: string;
  /** False when the outputs were already up to date. */
  built: boolean;
}

/** Builds (or reuses) the test image in `outDir`; outputs are `vmlinuz` and `initramfs`. */
export async function buildTestImage(outDir = 'dist/test-image'): Promise<TestImage> {
  const out = resolve(outDir);
  const kernel = join(out, 'vmlinuz');
  const initrd = join(out, 'initramfs');
  const sourceKernel = await newestKernel('the test image');
  const inputs = [sourceKernel, BUSYBOX, INIT_SCRIPT, fileURLToPath(import.meta.url)];
  if (await isUpToDate([kernel, initrd], inputs)) return { kernel, initrd, built: false };

  await mkdir(out, { recursive: true });
  await copyFile(sourceKernel, kernel);
  await writeFile(initrd, gzipSync(await buildCpio(), { level: 9 }));
  return { kernel, initrd, built: true };
}

/** Stages the initramfs tree in a temp dir and packs it with GNU cpio (newc, owned by root). */
async function buildCpio(): Promise<Buffer> {
  const stage = await mkdtemp(join(tmpdir(), 'trowel-test-image-'));
  try {
    for (const dir of ['bin', 'proc', 'sys', 'dev']) await mkdir(join(stage, dir));
    await copyFile(BUSYBOX, join(stage, 'bin/busybox'));
    // /init's shebang needs /bin/sh before `busybox --install` has run.
    await symlink('busybox', join(stage, 'bin/sh'));
    await writeFile(join(stage, 'init'), await readFile(INIT_SCRIPT), { mode: 0o755 });
    const archive = join(stage, '..', `${stage.split('/').at(-1)}.cpio`);
    const entries = ['init', 'bin', 'bin/busybox', 'bin/sh', 'proc', 'sys', 'dev'];
    try {
      await run('cpio', ['--create', '--format=newc', '--owner=0:0', `--file=${archive}`, '--quiet'], {
        cwd: stage,
        input: entries.join('\n') + '\n',
      });
      return await readFile(archive);
    } finally {
      await rm(archive, { force: true });
    }
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const image = await buildTestImage(process.argv[2]);
  process.stdout.write(`${image.built ? 'built' : 'up to date'}: ${image.kernel} ${image.initrd}\n`);
}
