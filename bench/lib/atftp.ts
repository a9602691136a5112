/**
 * The one TFTP client every server is measured with: atftp 0.8.0, which
 * asks for blksize (RFC 2348), timeout (RFC 2349) and windowsize (RFC 7440).
 * `--trace` prints every packet, so it is used only for the small probe that
 * records which options a server acknowledged, never for a timed transfer.
 */
import { performance } from 'node:perf_hooks';
import type { Netns } from '../../src/lab/netns.ts';

export interface TftpGet {
  server: string;
  remote: string;
  local: string;
  blksize: number;
  windowsize: number;
  /** Asked of the server as the RFC 2349 timeout option, in seconds. */
  timeout?: number;
  /** atftp's own retransmission delay (`--tftp-timeout`), in seconds. */
  clientTimeout?: number;
  trace?: boolean;
  /** Kill the client after this long. */
  limitMs: number;
}

export function atftpArgs(get: TftpGet): string[] {
  const args = ['--get', '-r', get.remote, '-l', get.local, '--option', `blksize ${get.blksize}`];
  // windowsize 1 is RFC 1350 lockstep: leave the option out, as a plain client would.
  if (get.windowsize > 1) args.push('--option', `windowsize ${get.windowsize}`);
  if (get.timeout !== undefined) args.push('--option', `timeout ${get.timeout}`);
  if (get.clientTimeout !== undefined) args.push('--tftp-timeout', String(get.clientTimeout));
  if (get.trace) args.push('--trace');
  args.push(get.server);
  return args;
}

/**
 * Runs one download in the client namespace; returns its wall time and atftp's output.
 * atftp exits 255 when a transfer fails (it prints "timeout: retrying" on every
 * retransmission, so its text is no failure signal); callers also check the sha256.
 */
export async function atftpGet(ns: Netns, get: TftpGet): Promise<{ seconds: number; output: string }> {
  const start = performance.now();
  const { stdout, stderr } = await ns.exec('atftp', atftpArgs(get), { timeoutMs: get.limitMs });
  const seconds = (performance.now() - start) / 1000;
  return { seconds, output: `${stdout}\n${stderr}` };
}

/** The options in the server's OACK, from `--trace` output ("received OACK <blksize: 1468, >"); {} if it sent none. */
export function parseOack(traceOutput: string): Record<string, string> {
  const m = /received OACK <([^>]*)>/.exec(traceOutput);
  if (!m) return {};
  const out: Record<string, string> = {};
  for (const part of m[1]!.split(',')) {
    const kv = /^\s*([\w-]+):\s*(\S+)\s*$/.exec(part);
    if (kv) out[kv[1]!.toLowerCase()] = kv[2]!;
  }
  return out;
}
