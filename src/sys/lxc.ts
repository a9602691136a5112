/**
 * The few LXC queries the template pool needs, through the lxc tools so the
 * answers match what `lxc-start` would see.
 */
import { CommandError, run } from './run.ts';

/** Where containers live when no `-P` is given (`lxc.lxcpath`, usually /var/lib/lxc). */
export async function defaultLxcPath(): Promise<string> {
  return (await run('lxc-config', ['lxc.lxcpath'])).stdout.trim();
}

/**
 * The container's state as `lxc-info -s` prints it (STOPPED, RUNNING,
 * FROZEN, ...), or undefined when no such container exists under `lxcPath`.
 */
export async function lxcState(name: string, lxcPath: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('lxc-info', ['-n', name, '-P', lxcPath, '-s']);
    return /^State:\s*(\S+)/m.exec(stdout)?.[1];
  } catch (e) {
    if (e instanceof CommandError && /doesn't exist/.test(e.stderr)) return undefined;
    throw e;
  }
}
