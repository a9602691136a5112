/**
 * CPU time a process has used, from /proc/<pid>/stat: user + system time of
 * the process and of the children it has reaped (tftpd-hpa forks one child
 * per transfer). On a shared machine wall time depends on what else runs;
 * CPU seconds per unit of work does much less, so reports show both.
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports times in these ticks; 100 on every mainstream architecture. */
const TICKS_PER_SECOND = 100;

export function processCpuSeconds(pid: number): number {
  return cpuSecondsFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** Fields 14-17 (utime, stime, cutime, cstime) of a /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function cpuSecondsFromStat(stat: string): number {
  const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // afterName[0] is field 3 (state), so field N is afterName[N - 3].
  const ticks = [14, 15, 16, 17].reduce((sum, field) => sum + Number(afterName[field - 3]), 0);
  if (!Number.isFinite(ticks)) throw new Error(`Cannot read CPU times from /proc stat: "${stat.slice(0, 80)}"`);
  return ticks / TICKS_PER_SECOND;
}
