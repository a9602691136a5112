/**
 * Turns a received template into this machine's root (docs/provisioning.md,
 * "On the disk"): a writable snapshot `@root:<name>:<arch>:<version>` of the
 * read-only `@template:...`, `@home` and `@persistent` beside it (kept when
 * they exist), the machine's own fstab, host name, hosts file and
 * machine-id, then the template's /etc/trowel/deploy.d hooks in the target.
 * The default subvolume is not touched here: the previous root stays the one
 * that boots until the bootloader step has finished with the new one.
 */
import { lstat, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrowelError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { TemplateRef } from '../pool/names.ts';
import { createSubvolume, deleteSubvolume, getDefaultSubvolume, isSubvolume, snapshot } from '../sys/btrfs.ts';
import { CommandError } from '../sys/run.ts';
import { buildFstab, buildHosts, newMachineId, PERSISTENT_DIR } from './system-files.ts';
import { runInTarget, TARGET_ENV, type TargetMounts } from './target-chroot.ts';

export const DEPLOY_HOOK_DIR = 'etc/trowel/deploy.d';
const HOOK_TIMEOUT_MS = 10 * 60_000;

export interface DeployContext {
  /** Where the pool's top level is mounted. */
  pool: string;
  /** The received read-only template subvolume's name. */
  templateSubvolume: string;
  ref: TemplateRef;
  hostname: string;
  poolDevice: string;
  poolUuid: string;
  espDevice: string | undefined;
  espUuid: string | undefined;
  /** Passed to the hooks as TROWEL_DISK and TROWEL_MAC. */
  disk: string;
  mac: string | undefined;
  /** An empty directory the target chroot mounts the root on. */
  mountpoint: string;
  /** Block devices and UUID links for the target's /dev (target-chroot.ts). */
  devices: readonly string[];
  uuids: Readonly<Record<string, string>>;
  log: Logger;
}

export interface DeployedRoot {
  subvolume: string;
  /** The root as a directory under the pool mount. */
  path: string;
  hooks: string[];
}

export function rootSubvolumeName(ref: TemplateRef): string {
  return `@root:${ref.name}:${ref.arch}:${ref.version}`;
}

export async function deployRoot(ctx: DeployContext): Promise<DeployedRoot> {
  const subvolume = rootSubvolumeName(ctx.ref);
  const path = join(ctx.pool, subvolume);
  if (await isSubvolume(path)) {
    const current = await getDefaultSubvolume(ctx.pool);
    if (current.path === subvolume) {
      throw new TrowelError('EDEPLOYED', `Cannot deploy ${ctx.ref.name} ${ctx.ref.arch} ${ctx.ref.version}: it is already the root this disk boots`, {
        hint: 'publish a new version, or provision with trowel.layout=auto and wipe to start over',
      });
    }
    // Not the default: a deploy that stopped before it finished. Nothing boots it.
    ctx.log.warn('unfinished_root_removed', { subvolume });
    await deleteSubvolume(path);
  }
  await snapshot(join(ctx.pool, ctx.templateSubvolume), path);
  for (const name of ['@home', '@persistent']) {
    if (await isSubvolume(join(ctx.pool, name))) ctx.log.info('subvolume_kept', { subvolume: name });
    else await createSubvolume(join(ctx.pool, name));
  }
  await writeSystemFiles(path, subvolume, ctx);
  // The ESP stays out of the hooks' way: it belongs to the bootloader step.
  const target: TargetMounts = { poolDevice: ctx.poolDevice, subvolume, mountpoint: ctx.mountpoint, devices: ctx.devices, uuids: ctx.uuids };
  const hooks = await runDeployHooks(path, target, ctx);
  ctx.log.info('root_deployed', { subvolume, hooks });
  return { subvolume, path, hooks };
}

/** @private */
async function writeSystemFiles(root: string, subvolume: string, ctx: DeployContext): Promise<void> {
  const etc = await realDir(root, 'etc');
  await replaceFile(etc, 'fstab', buildFstab(await readOptional(join(etc, 'fstab')), { poolUuid: ctx.poolUuid, espUuid: ctx.espUuid, rootSubvolume: subvolume }));
  await replaceFile(etc, 'hostname', `${ctx.hostname}\n`);
  await replaceFile(etc, 'hosts', buildHosts(await readOptional(join(etc, 'hosts')), ctx.hostname));
  const machineId = newMachineId();
  await replaceFile(etc, 'machine-id', machineId);
  // D-Bus keeps its own copy on older systems; on current Debian it is a symlink to /etc/machine-id.
  const dbus = join(root, 'var/lib/dbus/machine-id');
  if ((await lstat(dbus).catch(() => undefined))?.isFile()) await replaceFile(join(root, 'var/lib/dbus'), 'machine-id', machineId);
  for (const dir of ['home', PERSISTENT_DIR.slice(1), ...(ctx.espDevice ? ['boot/efi'] : [])]) await mkdir(join(root, dir), { recursive: true });
}

/**
 * @private The hooks of /etc/trowel/deploy.d, like run-parts(8): names
 * starting with "." or ending in "~" or containing ".dpkg-" are skipped, and
 * so are files without an execute bit; the rest run in name order.
 */
async function runDeployHooks(root: string, target: TargetMounts, ctx: DeployContext): Promise<string[]> {
  const dir = join(root, DEPLOY_HOOK_DIR);
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return [];
  const hooks: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.') || entry.name.endsWith('~') || entry.name.includes('.dpkg-')) continue;
    if (entry.isSymbolicLink() || (entry.isFile() && ((await lstat(join(dir, entry.name))).mode & 0o111) !== 0)) hooks.push(entry.name);
  }
  const env = {
    ...TARGET_ENV,
    TROWEL_TEMPLATE: ctx.ref.name,
    TROWEL_ARCH: ctx.ref.arch,
    TROWEL_VERSION: ctx.ref.version,
    TROWEL_HOSTNAME: ctx.hostname,
    TROWEL_DISK: ctx.disk,
    ...(ctx.mac ? { TROWEL_MAC: ctx.mac } : {}),
  };
  for (const hook of hooks) {
    const started = Date.now();
    try {
      const { stdout, stderr } = await runInTarget(target, [`/${DEPLOY_HOOK_DIR}/${hook}`], { env, timeoutMs: HOOK_TIMEOUT_MS });
      ctx.log.info('deploy_hook_done', { hook, ms: Date.now() - started, output: tail(stdout + stderr) });
    } catch (e) {
      const status = e instanceof CommandError ? (e.exitCode === null ? 'it was killed' : `exit status ${e.exitCode}`) : (e as Error).message;
      const output = e instanceof CommandError ? tail(e.stderr) : '';
      throw new TrowelError('EHOOK', `Cannot deploy ${ctx.ref.name}: deploy hook ${hook} failed: ${status}${output ? `: ${output}` : ''}`, {
        hint: `fix /${DEPLOY_HOOK_DIR}/${hook} in the template; the disk still boots what it booted before`,
        cause: e,
      });
    }
  }
  return hooks;
}

/** @private `root/<name>`, refusing a symlink: files written there must land inside the root. */
async function realDir(root: string, name: string): Promise<string> {
  const path = join(root, name);
  const st = await lstat(path).catch(() => undefined);
  if (st?.isSymbolicLink()) throw new TrowelError('ETEMPLATE', `Cannot deploy: /${name} in the template is a symbolic link`);
  if (!st) await mkdir(path, { recursive: true });
  return path;
}

/** @private Writes beside and renames over, so a symlink in the template is replaced, never followed. */
async function replaceFile(dir: string, name: string, content: string): Promise<void> {
  const temp = join(dir, `.${name}.trowel-new`);
  await writeFile(temp, content, { mode: 0o644 });
  await rename(temp, join(dir, name));
}

/** @private */
async function readOptional(path: string): Promise<string | undefined> {
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  return readFile(path, 'utf8');
}

/** @private The last lines of a program's output, for one log field. */
function tail(text: string): string {
  return text.trim().split('\n').slice(-5).join(' | ');
}
