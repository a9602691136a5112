/**
 * Exact CPU accounting for a server and every process it forks (tftpd-hpa
 * forks a child per transfer and lets the kernel reap it, so /proc never
 * adds that child's time to the parent's). The server is moved into a
 * control group of its own; the group's counter includes all descendants.
 * Works with cgroup v2 (cpu.stat usage_usec) or v1 cpuacct (cpuacct.usage);
 * returns undefined where neither is writable, and callers fall back to /proc.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuGroup {
  readonly path: string;
  add(pid: number): void;
  usageSeconds(): number;
  /** Removes the group (its processes must have exited). */
  remove(): void;
}

const V2_ROOTS = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'];
const V1_ROOT = '/sys/fs/cgroup/cpuacct';

export function createCpuGroup(name: string): CpuGroup | undefined {
  for (const root of V2_ROOTS) {
    if (!existsSync(join(root, 'cgroup.controllers'))) continue;
    const group = tryCreate(root, name, (dir) => parseUsageUsec(readFileSync(join(dir, 'cpu.stat'), 'utf8')) / 1e6);
    if (group) return group;
  }
  if (existsSync(join(V1_ROOT, 'cpuacct.usage'))) {
    return tryCreate(V1_ROOT, name, (dir) => Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8').trim()) / 1e9);
  }
  return undefined;
}

function tryCreate(root: string, name: string, usage: (dir: string) => number): CpuGroup | undefined {
  const dir = join(root, name);
  try {
    mkdirSync(dir);
    usage(dir);
  } catch {
    try {
      rmdirSync(dir);
    } catch {
      /* never created */
    }
    return undefined;
  }
  return {
    path: dir,
    add: (pid) => writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`),
    usageSeconds: () => usage(dir),
    remove: () => rmdirSync(dir),
  };
}

/** The `usage_usec` line of a cgroup v2 cpu.stat file. */
export function parseUsageUsec(cpuStat: string): number {
  const m = /^usage_usec (\d+)$/m.exec(cpuStat);
  if (!m) throw new Error('Cannot read cgroup CPU usage: cpu.stat has no usage_usec line');
  return Number(m[1]);
}
