/**
 * The multicast lab: a hub namespace holding a bridge, one sender namespace
 * and N receiver namespaces, each joined to the bridge by a veth pair, on
 * 10.<net>.0.0/16 (sender 10.<net>.0.1, receivers from 10.<net>.0.11 on,
 * 250 to a third octet, so more than 243 fit). Receivers run as
 * child processes inside their namespaces (test/helpers/mcast-receiver-process.ts).
 * destroy() removes every namespace, which also kills what runs inside.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { connect, createBridge, Netns, uniqueName } from '../../src/lab/netns.ts';

export const RECEIVER_SCRIPT = join(import.meta.dirname, 'mcast-receiver-process.ts');
/** The CLI the tests run: the source, or a bundle given in TROWEL_CLI (e.g. dist/trowel.mjs). */
export const CLI = process.env.TROWEL_CLI ?? join(import.meta.dirname, '../../src/cli/main.ts');

export interface McastLab {
  hub: Netns;
  sender: Netns;
  senderAddress: string;
  receivers: { ns: Netns; address: string }[];
  destroy(): Promise<void>;
}

export async function createMcastLab(receiverCount: number, options: { net?: number; mtu?: number } = {}): Promise<McastLab> {
  const net = options.net ?? 233;
  const mtu = options.mtu ?? 1500;
  const made: Netns[] = [];
  const destroy = async () => {
    for (const ns of made.reverse()) await ns.destroy();
  };
  try {
    const hub = await Netns.create(uniqueName('mch'));
    made.push(hub);
    await createBridge(hub, 'br0', undefined);
    await hub.ip('link', 'set', 'br0', 'mtu', String(mtu));
    const attach = async (ns: Netns, index: number, address: string) => {
      const port = `p${index}`;
      await connect(hub, port, undefined, ns, 'eth0', `${address}/16`, mtu);
      await hub.ip('link', 'set', port, 'master', 'br0');
    };
    const sender = await Netns.create(uniqueName('mcs'));
    made.push(sender);
    const senderAddress = `10.${net}.0.1`;
    await attach(sender, 0, senderAddress);
    const receivers: McastLab['receivers'] = [];
    for (let i = 0; i < receiverCount; i++) {
      const ns = await Netns.create(uniqueName('mcr'));
      made.push(ns);
      const host = 11 + i;
      const address = `10.${net}.${Math.floor(host / 250)}.${host % 250}`;
      await attach(ns, i + 1, address);
      receivers.push({ ns, address });
    }
    return { hub, sender, senderAddress, receivers, destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}

/** Output of a child process, collected; `exited` resolves with its exit code (or signal name). */
export interface Collected {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | string>;
}

export function collect(child: ChildProcess): Collected {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-20_000)));
  // 'close', not 'exit': a process may end before its last stdout line has been read from the pipe (200 receivers
  // on two cores made that race real), and that line is the report.
  const exited = new Promise<number | string>((resolve) => child.once('close', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export const SENDER_SCRIPT = join(import.meta.dirname, 'mcast-sender-process.ts');
export const FORGER_SCRIPT = join(import.meta.dirname, 'mcast-forger-process.ts');
export const REPLAYER_SCRIPT = join(import.meta.dirname, 'mcast-replayer-process.ts');

/** A helper process that prints one JSON line at the end. */
export interface JsonRun<T> {
  collected: Collected;
  /** Resolves when the process printed `marker` (e.g. READY) on stdout. */
  printed(marker: string, timeoutMs?: number): Promise<void>;
  result: Promise<T>;
}

export function runJson<T>(ns: Netns, script: string, config: object): JsonRun<T> {
  const collected = collect(ns.spawn(process.execPath, [script, JSON.stringify(config)]));
  const result = collected.exited.then((code) => {
    const last = collected.stdout().trim().split('\n').at(-1) ?? '';
    try {
      return JSON.parse(last) as T;
    } catch {
      throw new Error(`${script} exited with ${code} without a report: ${collected.stderr().slice(-3000)}`);
    }
  });
  // Awaited by the tests that need it; a killed process's missing report must not be an unhandled rejection.
  result.catch(() => {});
  const printed = (marker: string, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (collected.stdout().includes(marker)) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        }
      };
      const poll = setInterval(check, 20);
      const timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`${script} did not print ${marker} within ${timeoutMs} ms: ${collected.stderr().slice(-3000)}`));
      }, timeoutMs);
      void collected.exited.then(() => setTimeout(() => {
        check();
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`${script} exited before printing ${marker}: ${collected.stdout().slice(-500)} ${collected.stderr().slice(-3000)}`));
      }, 50));
    });
  return { collected, printed, result };
}
