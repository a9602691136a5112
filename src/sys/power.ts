/**
 * Powers the machine off, the way provision/reboot.ts restarts it:
 * filesystems synced, `poweroff -f` (no init to stop in the PXE image), and
 * when that is missing or fails, the magic SysRq "o" (Documentation/
 * admin-guide/sysrq.rst).
 */
import { writeFile } from 'node:fs/promises';
import { describeError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { run } from './run.ts';

export async function powerOffMachine(log: Logger = silentLogger): Promise<void> {
  await run('sync', []).catch(() => {});
  try {
    await run('poweroff', ['-f']);
  } catch (e) {
    log.warn('poweroff_fallback_sysrq', { error: describeError(e) });
    await writeFile('/proc/sys/kernel/sysrq', '1');
    await writeFile('/proc/sysrq-trigger', 'o');
  }
}
