/**
 * Runs a program inside a root filesystem that is not booted: chroot in a
 * private mount and PID namespace (util-linux `unshare`), with a fresh /proc
 * and a minimal /dev on tmpfs. The mounts exist only in that namespace, so
 * nothing is left mounted in (or written to the /dev of) the tree, even when
 * the program is killed; `--kill-child` takes the whole PID namespace down
 * with `unshare`.
 */
import { run, type RunResult } from './run.ts';

export interface ChrootOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Device nodes a script may expect (/dev/null above all): name, major, minor (Linux devices.txt). */
const DEVICES: [string, number, number][] = [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9]];

// $1 is the root, the rest the command. Mount points that are symlinks are
// skipped: mount would follow them out of the tree.
const SETUP = [
  'set -e',
  'root=$1; shift',
  'if [ -d "$root/proc" ] && [ ! -L "$root/proc" ]; then mount -t proc proc "$root/proc"; fi',
  'if [ -d "$root/dev" ] && [ ! -L "$root/dev" ]; then',
  '  mount -t tmpfs -o mode=755,nosuid,size=1m trowel-dev "$root/dev"',
  ...DEVICES.map(([name, major, minor]) => `  mknod -m 666 "$root/dev/${name}" c ${major} ${minor}`),
  '  ln -s /proc/self/fd "$root/dev/fd"',
  'fi',
  'exec chroot "$root" "$@"',
].join('\n');

export function runInChroot(root: string, command: readonly string[], options: ChrootOptions = {}): Promise<RunResult> {
  return run(
    'unshare',
    ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', 'sh', '-c', SETUP, 'trowel-chroot', root, ...command],
    { env: options.env, timeoutMs: options.timeoutMs },
  );
}
