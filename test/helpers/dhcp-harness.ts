/**
 * Starts test/helpers/dhcp-server-process.ts inside a namespace and collects
 * its JSON log records, so tests can wait for and assert on what the server
 * did (replies, drops) as well as on what the client saw.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Netns } from '../../src/lab/netns.ts';

const ENTRY = join(import.meta.dirname, 'dhcp-server-process.ts');

export type LogRecord = Record<string, unknown>;

export interface DhcpProcess {
  child: ChildProcess;
  records: LogRecord[];
  waitFor(predicate: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  stop(): Promise<number | null>;
}

export async function startDhcpProcess(ns: Netns, configFile: string, timeoutMs = 20_000): Promise<DhcpProcess> {
  const child = ns.spawn(process.execPath, [ENTRY, configFile], { env: { ...process.env, TROWEL_LOG: 'debug' } });
  const records: LogRecord[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      try {
        records.push(JSON.parse(line) as LogRecord);
      } catch {
        records.push({ event: 'non-json', line });
      }
    }
    listeners.forEach((l) => l());
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close', not 'exit': records the server wrote as it stopped may still be in the pipe at 'exit'.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    resolve(code);
    listeners.forEach((l) => l());
  }));

  const waitFor: DhcpProcess['waitFor'] = (predicate, ms = 15_000) =>
    new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        fn();
      };
      const check = () => {
        const hit = records.find(predicate);
        if (hit) done(() => resolve(hit));
        else if (child.exitCode !== null || child.signalCode !== null) done(() => reject(new Error(`DHCP server exited (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`DHCP server: no matching record within ${ms} ms; stderr: ${stderr.trim()}; last: ${JSON.stringify(records.slice(-5))}`))), ms);
      listeners.add(check);
      check();
    });

  const proc: DhcpProcess = {
    child,
    records,
    waitFor,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  try {
    await waitFor((r) => r.event === 'dhcp.ready', timeoutMs);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}
