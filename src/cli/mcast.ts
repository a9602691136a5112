/**
 * `trowel mcast send-file|receive-file`: one file over reliable multicast
 * (docs/multicast.md), by hand and for the benchmarks. Wiring only: the work
 * is sendFile() / receiveFile() in src/mcast. Each prints one summary line on
 * stderr at the end, or one line saying why it failed (exit 1).
 */
import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { parseDurationSeconds } from '../config/duration.ts';
import { describeError, TrowelError } from '../errors.ts';
import { createLogger, type Logger, LogLevel, type LogLevelName } from '../log/logger.ts';
import { MAX_FRAGMENTS, MAX_PACK, parseKey, receiveFile, sendFile } from '../mcast/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { mcastSendCommand } from './mcast-send.ts';
import type { CommandIo } from './machines.ts';

const ENDPOINT_USAGE = `  --group G         IPv4 multicast group, e.g. 239.255.84.1
  --port P          UDP port of the group
  --interface ADDR  IPv4 address of the local interface to send on / join on
  --key-file K      the session key: 32 raw bytes or 64 hex characters
  --session N       session id (u32), the same on both ends`;

const USAGE = `usage: trowel mcast send-file FILE --group G --port P --interface ADDR --key-file K --session N
                         [--rate 900M] [--min-receivers N] [--max-wait 60s] [--drop-after 10s]
                         [--mtu M] [--fragments F] [--pack B] [--fec K,P]
       trowel mcast receive-file OUT --group G --port P --interface ADDR --key-file K --session N
                         [--timeout 120s]
       trowel mcast send ...  (a template session through the server: trowel mcast send --help)

options:
${ENDPOINT_USAGE}
  --rate R          send-file: rate cap in bit/s, with k/M/G suffixes (default 900M)
  --min-receivers N send-file: wait for N receivers before sending (default 1)
  --max-wait D      send-file: start anyway after D with at least one receiver (default 60s)
  --drop-after D    send-file: drop a receiver silent for D, or without progress for D once the
                    data is out, 2s-10m (default 10s; raise it for hundreds of slow receivers)
  --mtu M           send-file: the path MTU (default: the interface's MTU)
  --fragments F     send-file: IP fragments of the MTU per block datagram, 1-16 (default: ~9 KB
                    datagrams, so 6 at MTU 1500 and 1 with jumbo frames; 1: no fragmentation)
  --pack B          send-file: blocks per data datagram at most, 1-16, fewer while a receiver loses
                    many (default: 2 for ~9 KB blocks; 1: no packing)
  --fec K,P         send-file: K data blocks per FEC group, P parity blocks sent unasked (default 64,0)
  --timeout D       receive-file: fail when no session is heard for D (default 120s)`;

const OPTIONS = {
  group: { type: 'string' },
  port: { type: 'string' },
  interface: { type: 'string' },
  'key-file': { type: 'string' },
  session: { type: 'string' },
  rate: { type: 'string' },
  'min-receivers': { type: 'string' },
  'max-wait': { type: 'string' },
  'drop-after': { type: 'string' },
  mtu: { type: 'string' },
  fragments: { type: 'string' },
  pack: { type: 'string' },
  fec: { type: 'string' },
  timeout: { type: 'string' },
} as const;

const SEND_ONLY = ['rate', 'min-receivers', 'max-wait', 'drop-after', 'mtu', 'fragments', 'pack', 'fec'] as const;
const RECEIVE_ONLY = ['timeout'] as const;

const processIo: CommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/** "900M", "1.5G", "250000k", "1e9" -> bits per second. */
export function parseRate(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kKmMgG]?)(?:bit\/s|bps)?\s*$/.exec(text);
  if (!m) return undefined;
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const value = Number(m[1]) * scale;
  return value > 0 ? value : undefined;
}

function integer(values: Values, name: keyof Values, min: number, max: number): number | undefined {
  const text = values[name] as string | undefined;
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not "${text}"`, USAGE);
  return n;
}

function durationMs(values: Values, name: keyof Values): number | undefined {
  const text = values[name] as string | undefined;
  if (text === undefined) return undefined;
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) throw new UsageError(`--${name} must be a duration such as 90s or 2m, not "${text}"`, USAGE);
  return seconds * 1000;
}

/** --drop-after: from 2 s (a receiver's reports need a few rounds) to 10 min (a stuck one must not hold the session for ever). */
function dropAfterMs(values: Values): number | undefined {
  const ms = durationMs(values, 'drop-after');
  if (ms !== undefined && (ms < 2000 || ms > 600_000)) throw new UsageError(`--drop-after must be from 2s to 10m, not "${values['drop-after']}"`, USAGE);
  return ms;
}

function required(values: Values, name: keyof Values): string {
  const v = values[name] as string | undefined;
  if (v === undefined) throw new UsageError(`missing --${name}`, USAGE);
  return v;
}

async function endpoint(values: Values) {
  const group = required(values, 'group');
  const interfaceAddress = required(values, 'interface');
  if (!isIPv4(group) || !/^2(2[4-9]|3\d)\./.test(group)) throw new UsageError(`--group must be an IPv4 multicast address (224.0.0.0/4), not "${group}"`, USAGE);
  if (!isIPv4(interfaceAddress)) throw new UsageError(`--interface must be an IPv4 address, not "${interfaceAddress}"`, USAGE);
  const port = integer(values, 'port', 1, 65535) ?? required(values, 'port');
  const sessionId = integer(values, 'session', 0, 0xffffffff) ?? required(values, 'session');
  const keyFile = required(values, 'key-file');
  let content: Buffer;
  try {
    content = await readFile(keyFile);
  } catch (e) {
    throw new TrowelError('EMCAST_KEY', `Cannot read the session key ${keyFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { group, port: Number(port), interfaceAddress, sessionId: Number(sessionId), key: parseKey(content, keyFile) };
}

/** Log records as JSON lines on stderr; warnings only unless TROWEL_LOG asks for more, so the summary stays readable. */
function cliLogger(io: CommandIo): Logger {
  const name = io.env.TROWEL_LOG as LogLevelName | undefined;
  const threshold = name && name in LogLevel ? LogLevel[name] : LogLevel.warn;
  return createLogger('mcast', (r) => io.stderr(JSON.stringify(r) + '\n'), threshold);
}

function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = () => controller.abort(new TrowelError('EMCAST_ABORTED', 'Cannot finish the multicast session: interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

const mb = (bytes: number, seconds: number) => (seconds > 0 ? bytes / seconds / 1e6 : 0).toFixed(2);

async function sendFileCommand(file: string, values: Values, io: CommandIo): Promise<string> {
  for (const name of RECEIVE_ONLY) if (values[name] !== undefined) throw new UsageError(`--${name} applies only to receive-file`, USAGE);
  const rate = values.rate === undefined ? 900e6 : parseRate(values.rate);
  if (rate === undefined) throw new UsageError(`--rate must be a rate such as 900M, not "${values.rate}"`, USAGE);
  let fec: { groupSize: number; proactiveParity: number } | undefined;
  if (values.fec !== undefined) {
    const m = /^(\d+),(\d+)$/.exec(values.fec);
    if (!m) throw new UsageError(`--fec must be K,P such as 64,0, not "${values.fec}"`, USAGE);
    fec = { groupSize: Number(m[1]), proactiveParity: Number(m[2]) };
  }
  const aborter = abortOnSignals();
  try {
    const report = await sendFile({
      ...(await endpoint(values)),
      file,
      rateBitsPerSecond: rate,
      minReceivers: integer(values, 'min-receivers', 1, 100000),
      maxWaitMs: durationMs(values, 'max-wait'),
      dropAfterMs: dropAfterMs(values),
      mtu: integer(values, 'mtu', 576, 65000),
      fragments: integer(values, 'fragments', 1, MAX_FRAGMENTS),
      pack: integer(values, 'pack', 1, MAX_PACK),
      fec,
      log: cliLogger(io),
      signal: aborter.signal,
    });
    const done = report.receivers.filter((r) => r.state === 'done').length;
    const dropped = report.receivers.length - done;
    const worstLoss = Math.max(0, ...report.receivers.map((r) => r.loss));
    return `trowel mcast send-file: ${report.bytes} bytes in ${report.dataSeconds.toFixed(3)} s, ${mb(report.bytes, report.dataSeconds)} MB/s, ` +
      `receivers ${done} done ${dropped} dropped, repairs ${report.repairs}, loss ${(worstLoss * 100).toFixed(2)}%, ` +
      `packets ${report.packetsSent}, block ${report.blockSize}, bad packets ${report.badPackets}, replayed ${report.replayedPackets}`;
  } finally {
    aborter.dispose();
  }
}

async function receiveFileCommand(out: string, values: Values, io: CommandIo): Promise<string> {
  for (const name of SEND_ONLY) if (values[name] !== undefined) throw new UsageError(`--${name} applies only to send-file`, USAGE);
  const aborter = abortOnSignals();
  try {
    const receive = receiveFile({
      ...(await endpoint(values)),
      spoolFile: out,
      timeoutMs: durationMs(values, 'timeout') ?? 120_000,
      log: cliLogger(io),
      signal: aborter.signal,
    });
    // The bytes are in OUT already; nobody reads them back in order here.
    receive.readable.destroy();
    const report = await receive.done;
    return `trowel mcast receive-file: ${report.bytes} bytes in ${report.seconds.toFixed(3)} s, ${mb(report.bytes, report.seconds)} MB/s, ` +
      `repairs ${report.repaired}, loss ${(report.loss * 100).toFixed(2)}%, duplicates ${report.duplicates}, bad packets ${report.badPackets}`;
  } finally {
    aborter.dispose();
  }
}

/** The subcommands; `trowel mcast send` (sessions through the server) lives in mcast-send.ts when present. */
const SUBCOMMANDS: Record<string, (positional: string, values: Values, io: CommandIo) => Promise<string>> = {
  'send-file': sendFileCommand,
  'receive-file': receiveFileCommand,
};

export async function mcastCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  // Its own options: a template session through the server, not a file.
  if (argv[0] === 'send') return mcastSendCommand(argv.slice(1), io === processIo ? undefined : io);
  let sub: string | undefined;
  try {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE, true);
    if (values.help) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    [sub] = positionals;
    if (sub === undefined) throw new UsageError('missing subcommand', USAGE);
    const run = SUBCOMMANDS[sub];
    if (!run) throw new UsageError(`unknown subcommand "${sub}"`, USAGE);
    if (positionals.length !== 2) throw new UsageError(`"mcast ${sub}" takes one file`, USAGE);
    io.stderr(`${await run(positionals[1]!, values, io)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`trowel mcast: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (!(e instanceof TrowelError)) throw e;
    io.stderr(`trowel mcast${sub ? ` ${sub}` : ''}: ${describeError(e)}\n`);
    return 1;
  }
}
