/**
 * Restarts the machine into its new system. `reboot -f` skips init (the PXE
 * image's init has nothing to stop); when even that is missing or fails, the
 * magic SysRq "b" reboots at once (Documentation/admin-guide/sysrq.rst).
 * Filesystems are synced first; the target is already unmounted.
 */
import { writeFile } from 'node:fs/promises';
import { silentLogger, type Logger } from '../log/logger.ts';
import { describeError } from '../errors.ts';
import { run } from '../sys/run.ts';

export async function rebootMachine(log: Logger = silentLogger): Promise<void> {
  await run('sync', []).catch(() => {});
  try {
    await run('reboot', ['-f']);
  } catch (e) {
    log.warn('reboot_fallback_sysrq', { error: describeError(e) });
    await writeFile('/proc/sys/kernel/sysrq', '1');
    await writeFile('/proc/sysrq-trigger', 'b');
  }
}
