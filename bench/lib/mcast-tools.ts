/**
 * The three multicast file senders compared, and exactly how each is run:
 * trowel (`trowel mcast send-file` / `receive-file`), udpcast (`udp-sender
 * --full-duplex` / `udp-receiver`) and uftp (`uftp` / `uftpd`). The command
 * lines live here, once, so the results can quote them.
 *
 * Every tool gets the same rate cap (900 Mbit/s under the rig's 1 Gbit/s
 * token bucket), runs unattended (nobody presses Enter), unencrypted where
 * that is an option (uftp), and writes into the same kind of file system.
 * A receiver is ready when its UDP port is bound, and every receiver is
 * ready before the sender starts, so the clock never includes a receiver's
 * start-up.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { McastHost, McastRig } from './mcast-rig.ts';
import { spawnIn, waitUdpPort, type McastProcess } from './mcast-process.ts';
import { uftpReceived, uftpResults } from './mcast-parse.ts';

export const TOOL_NAMES = ['trowel', 'udpcast', 'uftp'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** Every tool's rate cap, bits per second (the rig shapes the wire to 1 Gbit/s). */
export const RATE_BPS = 900e6;

/** What one run hands a tool. */
export interface RunContext {
  rig: McastRig;
  /** The file every receiver must end up holding. */
  file: string;
  receivers: number;
  /** A fresh directory for this run's outputs, keys and logs. */
  dir: string;
  /** The trowel CLI to run with this Node (a bundle of the measured commit). */
  trowelCli: string;
}

export interface StartedReceiver {
  proc: McastProcess;
  /** Where this receiver writes the file. */
  output: string;
  /**
   * Resolves with the moment (performance.now()) the receiver had the whole
   * file by its own account: its exit (trowel, udpcast) or its status line
   * (uftpd, a daemon that stays). Rejects when it failed.
   */
  finished(timeoutMs: number): Promise<number>;
}

export interface McastTool {
  name: ToolName;
  /** The command lines, for the results file. */
  describe(mtu: number): string[];
  startReceiver(ctx: RunContext, host: McastHost, index: number): Promise<StartedReceiver>;
  startSender(ctx: RunContext): McastProcess;
}

const TROWEL_GROUP = '239.255.84.1';
const TROWEL_PORT = 5600;
/** udpcast's default port base: receivers listen on 9000, the sender on 9001. */
const UDPCAST_PORT = 9000;
const UFTP_PORT = 1044;

/** uftp's block size: its manual asks for 100-200 bytes under the path MTU (1300 is its default). */
function uftpBlockSize(mtu: number): number {
  return mtu >= 9000 ? 8800 : 1300;
}

/** Per-run secrets of trowel's sessions, made once per run directory. */
function trowelSession(dir: string): { keyFile: string; session: number } {
  const keyFile = join(dir, 'session.key');
  const idFile = join(dir, 'session.id');
  if (!existsSync(keyFile)) {
    writeFileSync(keyFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    writeFileSync(idFile, String(randomInt(1, 2 ** 31)));
  }
  return { keyFile, session: Number(readFileSync(idFile, 'utf8')) };
}

function trowelEndpoint(ctx: RunContext, address: string): string[] {
  const { keyFile, session } = trowelSession(ctx.dir);
  return ['--group', TROWEL_GROUP, '--port', String(TROWEL_PORT), '--interface', address, '--key-file', keyFile, '--session', String(session)];
}

/**
 * Waits for the process to exit 0 within the time; resolves with when its
 * `done` line appeared (it had the file then; what follows is its linger,
 * e.g. udp-receiver's 500 ms --exit-wait), or its exit if it printed none.
 */
function doneLineThenExit(proc: McastProcess, done: RegExp): (timeoutMs: number) => Promise<number> {
  // Watched from the start, so the moment is the output's arrival, not when someone asks.
  const doneAt = proc.lineSeen(done);
  return async (timeoutMs) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Cannot finish ${proc.name}: still running after ${timeoutMs} ms: ${tailOf(proc)}`)), timeoutMs);
    });
    try {
      const exit = await Promise.race([proc.exited, timeout]);
      if (exit.code !== 0) throw new Error(`Cannot finish ${proc.name}: exit ${exit.code ?? exit.signal}: ${tailOf(proc)}`);
      return Math.min(exit.at, await Promise.race([doneAt, Promise.resolve(exit.at)]));
    } finally {
      clearTimeout(timer);
    }
  };
}

function tailOf(proc: McastProcess): string {
  return proc.output().trim().split('\n').slice(-3).join(' | ');
}

const trowel: McastTool = {
  name: 'trowel',
  describe: () => [
    `\`trowel mcast receive-file OUT --group ${TROWEL_GROUP} --port ${TROWEL_PORT} --interface 10.x.0.N --key-file K --session S --timeout 120s\``,
    `\`trowel mcast send-file FILE --group ${TROWEL_GROUP} --port ${TROWEL_PORT} --interface 10.x.0.1 --key-file K --session S --rate 900M --min-receivers N --max-wait 60s\``,
    '(no --mtu or --fragments: each block is one ~9 KB datagram, 6 IP fragments at MTU 1500 and one jumbo frame at 9000; the summary line reports the block size)',
  ],
  async startReceiver(ctx, host, index) {
    const output = join(ctx.dir, `trowel-${index}.out`);
    const proc = spawnIn(host.ns, `trowel receiver ${index}`, process.execPath, [
      ctx.trowelCli, 'mcast', 'receive-file', output, ...trowelEndpoint(ctx, host.address), '--timeout', '120s',
    ], trowelEnv());
    await waitUdpPort(host.ns, TROWEL_PORT, proc);
    return { proc, output, finished: doneLineThenExit(proc, /trowel mcast receive-file: \d+ bytes/) };
  },
  startSender(ctx) {
    return spawnIn(ctx.rig.sender.ns, 'trowel sender', process.execPath, [
      ctx.trowelCli, 'mcast', 'send-file', ctx.file, ...trowelEndpoint(ctx, ctx.rig.sender.address),
      '--rate', '900M', '--min-receivers', String(ctx.receivers), '--max-wait', '60s',
    ], trowelEnv());
  },
};

/** trowel's CLI logs warnings only (and its summary line), as an operator would run it. */
function trowelEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TROWEL_LOG;
  return env;
}

const udpcast: McastTool = {
  name: 'udpcast',
  describe: () => [
    '`udp-receiver --nokbd --interface eth0 --file OUT`',
    '`udp-sender --full-duplex --nokbd --interface eth0 --max-bitrate 900m --min-receivers N --max-wait 60 --file FILE`',
    '(block size: udpcast\'s default and maximum, 1456 bytes, at either MTU)',
  ],
  async startReceiver(ctx, host, index) {
    const output = join(ctx.dir, `udpcast-${index}.out`);
    const proc = spawnIn(host.ns, `udp-receiver ${index}`, 'udp-receiver', ['--nokbd', '--interface', host.interfaceName, '--file', output]);
    await waitUdpPort(host.ns, UDPCAST_PORT, proc);
    // udp-receiver prints "Transfer complete." only as it exits, after its 500 ms --exit-wait linger; the
    // sender's exit (after every receiver's final ACK) is what marks its end (see measure() in bench/mcast.ts).
    return { proc, output, finished: doneLineThenExit(proc, /Transfer complete\./) };
  },
  startSender(ctx) {
    return spawnIn(ctx.rig.sender.ns, 'udp-sender', 'udp-sender', [
      '--full-duplex', '--nokbd', '--interface', ctx.rig.sender.interfaceName, '--max-bitrate', '900m',
      '--min-receivers', String(ctx.receivers), '--max-wait', '60', '--file', ctx.file,
    ]);
  },
};

const uftp: McastTool = {
  name: 'uftp',
  describe: (mtu) => [
    '`uftpd -d -q -I eth0 -D DIR -F STATUS` (foreground, no DNS lookups; done when STATUS has the file\'s RESULT line)',
    `\`uftp -I eth0 -R 900000 -b ${uftpBlockSize(mtu)} FILE\` (unencrypted: uftp's default \`-Y none\`; ${uftpBlockSize(mtu)}-byte blocks at MTU ${mtu}, as its manual advises)`,
  ],
  async startReceiver(ctx, host, index) {
    const dir = join(ctx.dir, `uftp-${index}`);
    mkdirSync(dir);
    const status = join(ctx.dir, `uftp-${index}.status`);
    const proc = spawnIn(host.ns, `uftpd ${index}`, 'uftpd', ['-d', '-q', '-I', host.interfaceName, '-D', dir, '-F', status]);
    await waitUdpPort(host.ns, UFTP_PORT, proc);
    const name = basename(ctx.file);
    return {
      proc,
      output: join(dir, name),
      finished: async (timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const results = existsSync(status) ? uftpResults(readFileSync(status, 'utf8')) : [];
          const mine = results.find((r) => r.filename === name);
          if (mine) {
            if (!uftpReceived(mine.status)) throw new Error(`Cannot finish ${proc.name}: status ${mine.status}`);
            return performance.now();
          }
          if (proc.child.exitCode !== null) throw new Error(`Cannot finish ${proc.name}: it exited: ${tailOf(proc)}`);
          if (Date.now() > deadline) throw new Error(`Cannot finish ${proc.name}: no RESULT line after ${timeoutMs} ms: ${tailOf(proc)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      },
    };
  },
  startSender(ctx) {
    return spawnIn(ctx.rig.sender.ns, 'uftp', 'uftp', ['-I', ctx.rig.sender.interfaceName, '-R', '900000', '-b', String(uftpBlockSize(ctx.rig.mtu)), ctx.file]);
  },
};

export const MCAST_TOOLS: readonly McastTool[] = [trowel, udpcast, uftp];
