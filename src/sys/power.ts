/**
 * Restarts or powers off the machine the PXE image runs on: filesystems
 * synced first (a target is already unmounted), then `reboot -f` /
 * `poweroff -f` (the image's init has nothing to stop), and when that is
 * missing or fails, the magic SysRq key that does it at once ("b" reboot,
 * "o" off; Documentation/admin-guide/sysrq.rst).
 */
import { writeFile } from 'node:fs/promises';
import { describeError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { run } from './run.ts';

export function rebootMachine(log: Logger = silentLogger): Promise<void> {
  return leave('reboot', 'b', log);
}

export function powerOffMachine(log: Logger = silentLogger): Promise<void> {
  return leave('poweroff', 'o', log);
}

/** @private */
async function leave(command: 'reboot' | 'poweroff', sysrq: 'b' | 'o', log: Logger): Promise<void> {
  await run('sync', []).catch(() => {});
  try {
    await run(command, ['-f']);
  } catch (e) {
    log.warn(`${command}_fallback_sysrq`, { error: describeError(e) });
    await writeFile('/proc/sys/kernel/sysrq', '1');
    await writeFile('/proc/sysrq-trigger', sysrq);
  }
}
