/**
 * Starts `trowel serve` (from source, on this Node 24) inside a network
 * namespace and waits for its `serve.ready` record. Collects every log
 * record so tests can assert on what the server said.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Netns } from './netns.ts';

/** The CLI entry from source; the lab runs it with the Node that runs the lab (Node 24 under npm). */
export const CLI = join(import.meta.dirname, '../cli/main.ts');

export interface ServeProcess {
  child: ChildProcess;
  records: Record<string, unknown>[];
  stderr(): string;
  waitFor(predicate: (r: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

export async function startServe(ns: Netns, configFile: string, options: { timeoutMs?: number; onRecord?: (r: Record<string, unknown>) => void } = {}): Promise<ServeProcess> {
  const child = ns.spawn(process.execPath, [CLI, 'serve', '--config', configFile], { env: { ...process.env, TROWEL_LOG: 'debug' } });
  const records: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let errText = '';
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        record = { event: 'non-json', line };
      }
      records.push(record);
      options.onRecord?.(record);
    }
    waiters.forEach((w) => w());
  });
  child.stderr!.on('data', (d: Buffer) => (errText += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitFor: ServeProcess['waitFor'] = (predicate, ms = 15_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = records.find(predicate);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        }
      };
      const timer = setTimeout(() => reject(new Error(`serve: no matching log record within ${ms} ms; stderr: ${errText.trim()}; last: ${JSON.stringify(records.slice(-5))}`)), ms);
      waiters.push(check);
      exited.then(() => setTimeout(() => { clearTimeout(timer); reject(new Error(`serve exited: ${errText.trim()}`)); }, 50));
      check();
    });

  const proc: ServeProcess = {
    child,
    records,
    stderr: () => errText,
    waitFor,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  await waitFor((r) => r.event === 'serve.ready', options.timeoutMs ?? 30_000);
  return proc;
}
