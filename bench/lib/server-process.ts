/**
 * A peer server (trowel, dnsmasq, in.tftpd) running in the server namespace
 * for the duration of one measurement. Output is drained continuously (a
 * full pipe would stall the server and skew the numbers) and its tail kept
 * for error messages. Readiness is a log line or a bound UDP port.
 */
import type { ChildProcess } from 'node:child_process';
import type { Netns } from '../../src/lab/netns.ts';
import { onCleanup } from './cleanup.ts';
import { processCpuSeconds } from './cpu.ts';
import { createCpuGroup } from './cpu-group.ts';

const TAIL_BYTES = 8192;

export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last few KiB of stdout+stderr. */
  output(): string;
  /** Every output line seen so far that matches (for counting log records). */
  linesMatching(pattern: RegExp): string[];
  /** CPU seconds the server and its children used so far (see cpu-group.ts; /proc where no cgroup can be made). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Ready when a line of output matches. */
  readyLine?: RegExp;
  /** Ready when something listens on this UDP port inside the namespace. */
  readyUdpPort?: number;
  timeoutMs?: number;
  /** Keep lines that match this pattern for linesMatching() (memory stays bounded otherwise). */
  keepLines?: RegExp;
}

export async function startServer(ns: Netns, name: string, command: string, args: readonly string[], options: StartOptions = {}): Promise<ServerProcess> {
  const child = ns.spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let partial = '';
  let ready = false;
  const kept: string[] = [];
  const onData = (d: Buffer) => {
    const text = d.toString('utf8');
    tail = (tail + text).slice(-TAIL_BYTES);
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (options.readyLine?.test(line)) ready = true;
      if (options.keepLines?.test(line)) kept.push(line);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // `ip netns exec` execs the server in place, so the child's pid is the server's.
  const group = createCpuGroup(`trowel-bench-${child.pid}`);
  try {
    group?.add(child.pid!);
  } catch {
    /* exited already; the readiness loop reports it */
  }
  let running = true;
  void exited.then(() => (running = false));

  const stop = async () => {
    if (!running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const unregister = onCleanup(async () => {
    await stop();
    try {
      group?.remove();
    } catch {
      /* a forked child still exiting keeps the group busy for a moment; it is empty and harmless */
    }
  });
  const proc: ServerProcess = {
    name,
    child,
    output: () => tail,
    linesMatching: (pattern) => kept.filter((l) => pattern.test(l)),
    cpuSeconds: () => (group ? group.usageSeconds() : processCpuSeconds(child.pid!)),
    stop: unregister,
  };

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!(ready || (options.readyUdpPort !== undefined && (await udpPortBound(ns, options.readyUdpPort))))) {
    if (!running) {
      await unregister();
      throw new Error(`Cannot start ${name}: it exited: ${tail.trim().split('\n').slice(-3).join(' | ')}`);
    }
    if (Date.now() > deadline) {
      await unregister();
      throw new Error(`Cannot start ${name}: not ready after ${options.timeoutMs ?? 20_000} ms: ${tail.trim().split('\n').slice(-3).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

async function udpPortBound(ns: Netns, port: number): Promise<boolean> {
  const { stdout } = await ns.exec('ss', ['-Hlun', `sport = :${port}`]);
  return stdout.trim().length > 0;
}
