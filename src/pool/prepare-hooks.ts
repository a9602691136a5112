/**
 * A template's own `prepare` hooks: the executables in
 * `/etc/trowel/prepare.d/` inside the new version, run in name order in a
 * chroot of it before it becomes read-only. They scrub what must not be
 * shared by every machine deployed from it: SSH host keys, machine-id, logs,
 * caches. Like run-parts(8), names starting with "." or ending in "~" or
 * containing ".dpkg-" are skipped; so are files without an execute bit.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TrowelError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { runInChroot } from '../sys/chroot.ts';
import { CommandError } from '../sys/run.ts';

export const HOOK_DIR = 'etc/trowel/prepare.d';
/** A hook that runs longer than this is killed and fails the publish. */
const HOOK_TIMEOUT_MS = 10 * 60_000;

export interface HookContext {
  /** Who the template is, for error lines and the hooks' environment. */
  name: string;
  arch: string;
  log: Logger;
  progress(line: string): void;
}

/** The hooks `root` holds, in the order they run. */
export async function findPrepareHooks(root: string): Promise<string[]> {
  // Each step must be a real directory: a symlink could point readdir (not the chroot) at the host.
  let dir = root;
  for (const part of HOOK_DIR.split('/')) {
    dir = join(dir, part);
    let st;
    try {
      st = await lstat(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    if (st.isSymbolicLink()) {
      throw new TrowelError('EHOOK', `Cannot run prepare hooks: /${HOOK_DIR} in the template goes through a symbolic link (${dir.slice(root.length)})`, {
        hint: `make /${HOOK_DIR} a plain directory in the template`,
      });
    }
    if (!st.isDirectory()) return [];
  }
  const hooks: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name.endsWith('~') || entry.name.includes('.dpkg-')) continue;
    // A symlink is resolved inside the chroot when it runs, so only its presence is checked here.
    if (entry.isSymbolicLink() || (entry.isFile() && ((await lstat(join(dir, entry.name))).mode & 0o111) !== 0)) hooks.push(entry.name);
  }
  return hooks.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Runs every hook; the first failure throws TrowelError EHOOK. Returns the hooks run. */
export async function runPrepareHooks(root: string, ctx: HookContext): Promise<string[]> {
  const hooks = await findPrepareHooks(root);
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    TROWEL_TEMPLATE: ctx.name,
    TROWEL_ARCH: ctx.arch,
  };
  for (const hook of hooks) {
    ctx.progress(`running prepare hook ${hook}`);
    const started = Date.now();
    try {
      const { stdout, stderr } = await runInChroot(root, [`/${HOOK_DIR}/${hook}`], { env, timeoutMs: HOOK_TIMEOUT_MS });
      ctx.log.info('prepare_hook_done', { template: ctx.name, arch: ctx.arch, hook, ms: Date.now() - started, output: tail(stdout + stderr) });
    } catch (e) {
      const status = e instanceof CommandError ? (e.exitCode === null ? 'it was killed' : `exit status ${e.exitCode}`) : (e as Error).message;
      const output = e instanceof CommandError ? tail(e.stderr) : '';
      ctx.log.info('prepare_hook_failed', { template: ctx.name, arch: ctx.arch, hook, status, output });
      throw new TrowelError('EHOOK', `Cannot publish ${ctx.name} ${ctx.arch}: prepare hook ${hook} failed: ${status}${output ? `: ${output}` : ''}`, {
        hint: `fix /${HOOK_DIR}/${hook} in the source; nothing was published`,
        cause: e,
      });
    }
  }
  return hooks;
}

/** @private The last few lines, on one line. */
function tail(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}
