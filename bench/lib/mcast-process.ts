/**
 * One sender or receiver of a multicast run, started inside its namespace.
 * Unlike a long-running server (server-process.ts) its exit is the
 * measurement: `exited` resolves with the moment (performance.now()) and the
 * status. Output is drained continuously (a full pipe would stall the tool)
 * and its tail kept for parsing and error messages. CPU time comes from a
 * control group of its own (cpu-group.ts), /proc where none can be made.
 */
import { performance } from 'node:perf_hooks';
import type { ChildProcess } from 'node:child_process';
import type { Netns } from '../../src/lab/netns.ts';
import { onCleanup } from './cleanup.ts';
import { processCpuSeconds } from './cpu.ts';
import { createCpuGroup } from './cpu-group.ts';

const TAIL_BYTES = 16 * 1024;

export interface Exit {
  /** performance.now() when the process exited. */
  at: number;
  code: number | null;
  signal: string | null;
}

export interface McastProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** performance.now() just before the spawn. */
  readonly startedAt: number;
  readonly exited: Promise<Exit>;
  /** The last few KiB of stdout+stderr. */
  output(): string;
  /**
   * performance.now() when output matching `pattern` arrived (at once if it
   * already has); never resolves if it never comes. A tool's "done" line
   * marks the moment it had the file, before any linger before exiting.
   */
  lineSeen(pattern: RegExp): Promise<number>;
  /** CPU seconds of the process and its children so far (still readable after exit with a cgroup). */
  cpuSeconds(): number;
  /** SIGTERM, then SIGKILL after 3 s; resolves once it is gone and its group removed. */
  stop(): Promise<void>;
}

export function spawnIn(ns: Netns, name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): McastProcess {
  const startedAt = performance.now();
  const child = ns.spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const seen = new Map<RegExp, number>();
  const watchers: { pattern: RegExp; resolve: (at: number) => void }[] = [];
  const onData = (d: Buffer) => {
    const at = performance.now();
    tail = (tail + d.toString('utf8')).slice(-TAIL_BYTES);
    for (let i = watchers.length - 1; i >= 0; i--) {
      const w = watchers[i]!;
      if (w.pattern.test(tail)) {
        watchers.splice(i, 1);
        seen.set(w.pattern, at);
        w.resolve(at);
      }
    }
  };
  const lineSeen = (pattern: RegExp) => {
    const at = seen.get(pattern);
    if (at !== undefined) return Promise.resolve(at);
    if (pattern.test(tail)) {
      const now = performance.now();
      seen.set(pattern, now);
      return Promise.resolve(now);
    }
    return new Promise<number>((resolve) => watchers.push({ pattern, resolve }));
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { at: performance.now(), code, signal };
      resolve(exit);
    });
    child.once('error', () => {
      exit = { at: performance.now(), code: null, signal: null };
      resolve(exit);
    });
  });
  // `ip netns exec` execs the tool in place, so the child's pid is the tool's.
  const group = createCpuGroup(`trowel-bench-mcast-${child.pid}`);
  try {
    group?.add(child.pid!);
  } catch {
    /* already exited: its status tells */
  }
  // Without a group, the last /proc reading before exit is all there is.
  let lastProcCpu = 0;
  const cpuSeconds = () => {
    if (group) return group.usageSeconds();
    if (!exit) {
      try {
        lastProcCpu = processCpuSeconds(child.pid!);
      } catch {
        /* exited between the check and the read */
      }
    }
    return lastProcCpu;
  };
  const stop = onCleanup(async () => {
    if (!exit) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    try {
      group?.remove();
    } catch {
      /* a process of the group still exiting keeps it busy for a moment; it is empty and harmless */
    }
  });
  return { name, child, startedAt, exited, output: () => tail, lineSeen, cpuSeconds, stop };
}

/**
 * Waits until something in `ns` listens on UDP `port` (a receiver ready for the sender), or the process
 * exits. Generous: on this shared 2-core machine a Node receiver once took over 20 s to start under load.
 */
export async function waitUdpPort(ns: Netns, port: number, proc: McastProcess, timeoutMs = 60_000): Promise<void> {
  let gone = false;
  void proc.exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { stdout } = await ns.exec('ss', ['-Hlun', `sport = :${port}`]);
    if (stdout.trim()) return;
    if (gone) throw new Error(`Cannot start ${proc.name}: it exited: ${lastLines(proc.output())}`);
    if (Date.now() > deadline) throw new Error(`Cannot start ${proc.name}: no UDP port ${port} after ${timeoutMs} ms: ${lastLines(proc.output())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
