/**
 * Starts `trowel serve` inside a network namespace and waits for its
 * `serve.ready` record. Its log goes to a file (so a detached lab server
 * keeps logging after the starting process exits); records are followed by
 * reading that file, and collected so tests can assert on what the server said.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Netns } from './netns.ts';
import { SOURCE_CLI, trowelCommand } from './self.ts';

/** The CLI entry from source (tests run it with the Node 24 that runs them). */
export const CLI = SOURCE_CLI;

export type LogRecord = Record<string, unknown>;

export interface ServeProcess {
  pid: number | undefined;
  logFile: string;
  records: LogRecord[];
  waitFor(predicate: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code (undefined for a detached server we didn't start). */
  stop(): Promise<number | null | undefined>;
}

export interface ServeOptions {
  /** Where serve's stdout (JSON log lines) and stderr go. */
  logFile: string;
  timeoutMs?: number;
  onRecord?: (r: LogRecord) => void;
  /** Let the server outlive this process (`trowel lab up`). */
  detached?: boolean;
}

export async function startServe(ns: Netns, configFile: string, options: ServeOptions): Promise<ServeProcess> {
  const { command, args } = trowelCommand();
  const out = openSync(options.logFile, 'a');
  const child = ns.spawn(command, [...args, 'serve', '--config', configFile], {
    env: { ...process.env, TROWEL_LOG: 'debug' },
    stdio: ['ignore', out, out],
    detached: options.detached ?? false,
  });
  closeSync(out);
  if (options.detached) child.unref();
  const serve = followServe(child.pid, options.logFile, options.onRecord, child);
  await serve.waitFor((r) => r.event === 'serve.ready', options.timeoutMs ?? 30_000);
  return serve;
}

/**
 * Follows a server's log file (polling: the file may be written by a
 * process started by another `trowel lab` invocation) and controls it by pid.
 */
export function followServe(pid: number | undefined, logFile: string, onRecord?: (r: LogRecord) => void, child?: ChildProcess): ServeProcess {
  const records: LogRecord[] = [];
  let offset = 0;
  let partial = '';
  let exitCode: number | null | undefined;
  const exited = child
    ? new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))))
    : undefined;
  const poll = async () => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    const fresh = partial + text.slice(offset);
    offset = text.length;
    const lines = fresh.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      let record: LogRecord;
      try {
        record = JSON.parse(line) as LogRecord;
      } catch {
        record = { event: 'non-json', line };
      }
      records.push(record);
      onRecord?.(record);
    }
  };
  const timer = setInterval(() => void poll(), 200);
  timer.unref();

  const waitFor: ServeProcess['waitFor'] = async (predicate, ms = 15_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      await poll();
      const hit = records.find(predicate);
      if (hit) return hit;
      if (exitCode !== undefined) throw new Error(`serve exited (${exitCode}): ${lastLines(records)}`);
      if (Date.now() > deadline) throw new Error(`serve: no matching log record within ${ms} ms; last: ${lastLines(records)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  return {
    pid,
    logFile,
    records,
    waitFor,
    stop: async () => {
      clearInterval(timer);
      if (pid === undefined) return undefined;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return exitCode;
      }
      if (!exited) return undefined;
      const kill = setTimeout(() => child?.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(kill);
      await poll();
      return code;
    },
  };
}

function lastLines(records: LogRecord[]): string {
  return records.slice(-5).map((r) => (r.event === 'non-json' ? String(r.line) : JSON.stringify(r))).join(' | ');
}
