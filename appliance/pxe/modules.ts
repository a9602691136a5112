/**
 * Kernel modules for the image: the closure of a list of module names over
 * their dependencies and soft dependencies, resolved by the host's kmod
 * against the target kernel's own modules.dep/modules.softdep/modules.alias
 * (so we never reimplement depmod), then staged and indexed with `depmod -b`.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { TrowelError } from '../../src/errors.ts';
import { run } from '../../src/sys/run.ts';

export interface ModuleClosure {
  /** Absolute .ko paths under /lib/modules/<version>, dependencies first, each once. */
  files: string[];
  /** Names that are built into the kernel (nothing to ship). */
  builtin: string[];
}

/**
 * Parses `modprobe --show-depends` output (pure): `insmod <path> [options]`
 * lines in load order and `builtin <name>` lines.
 */
export function parseShowDepends(text: string): ModuleClosure {
  const files: string[] = [];
  const builtin: string[] = [];
  for (const line of text.split('\n')) {
    const insmod = /^insmod (\S+)/.exec(line);
    if (insmod && !files.includes(insmod[1]!)) files.push(insmod[1]!);
    const b = /^builtin (\S+)/.exec(line);
    if (b && !builtin.includes(b[1]!)) builtin.push(b[1]!);
  }
  return { files, builtin };
}

/** Module names kmod warned it could not find (pure). */
export function parseMissingModules(stderr: string): string[] {
  return [...stderr.matchAll(/Module (\S+) not found/g)].map((m) => m[1]!);
}

/** The modules directory of `kernelVersion` under `root` (Debian: /lib/modules/<version>). */
export function modulesDir(kernelVersion: string, root = '/'): string {
  return join(root, 'lib/modules', kernelVersion);
}

/**
 * Resolves `names` (module names or aliases such as "crypto-crc32c") with
 * their hard and soft dependencies for `kernelVersion`. Throws naming the
 * modules kmod cannot find, so a typo or a missing driver fails the build.
 */
export async function resolveModules(kernelVersion: string, names: readonly string[], root = '/'): Promise<ModuleClosure> {
  const { stdout, stderr } = await run('modprobe', ['--show-depends', '--dirname', root, '--set-version', kernelVersion, '--all', ...names], { okCodes: [0, 1] });
  const missing = parseMissingModules(stderr);
  if (missing.length > 0) {
    throw new TrowelError('EPXEBUILD', `Cannot build the PXE image: kernel ${kernelVersion} has no module ${missing.join(', ')}`, {
      hint: 'check the module names in appliance/pxe/contents.ts against /lib/modules',
    });
  }
  return parseShowDepends(stdout);
}

/** Index files depmod needs as input besides the modules (builtins and their aliases, load order). */
const DEPMOD_INPUTS = ['modules.order', 'modules.builtin', 'modules.builtin.modinfo'];

/**
 * Checks that busybox's modprobe can load every file (pure): it reads plain
 * `.ko` files; a kernel that ships compressed modules needs kmod instead.
 */
export function checkModuleFormat(files: readonly string[]): void {
  const compressed = files.filter((f) => !f.endsWith('.ko'));
  if (compressed.length > 0) {
    throw new TrowelError('EPXEBUILD', `Cannot build the PXE image: ${compressed[0]} is compressed and busybox's modprobe reads only plain .ko files`, {
      hint: "add /usr/bin/kmod (and its modprobe links) to appliance/pxe/contents.ts",
    });
  }
}

/**
 * Copies `files` (from the host's modules dir) into `stage` at the same
 * relative paths, with the index inputs, then runs `depmod -b` so modprobe
 * in the image finds dependencies, soft dependencies and aliases.
 */
export async function stageModules(stage: string, kernelVersion: string, files: readonly string[]): Promise<void> {
  checkModuleFormat(files);
  const from = modulesDir(kernelVersion);
  const to = modulesDir(kernelVersion, stage);
  for (const file of [...files, ...DEPMOD_INPUTS.map((f) => join(from, f))]) {
    const rel = relative(from, file);
    if (rel.startsWith('..')) throw new TrowelError('EPXEBUILD', `Cannot stage module ${file}: it is outside ${from}`);
    await mkdir(dirname(join(to, rel)), { recursive: true });
    await copyFile(file, join(to, rel));
  }
  await run('depmod', ['--basedir', stage, kernelVersion]);
}
