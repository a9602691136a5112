/**
 * `trowel template receive`: one template version from a trowel server into
 * a btrfs directory, verified against a pinned key (docs/templates.md,
 * "Receiving"). Prints the received subvolume's path on stdout; progress
 * goes to stderr. With --multicast the body comes from the server's
 * multicast session for that stream (src/mcast-client), verified the same
 * way. Wiring only: the work is receiveTemplate().
 */
import type { KeyObject } from 'node:crypto';
import { describeError } from '../errors.ts';
import { createLogger, LogLevel, type LogLevelName } from '../log/logger.ts';
import { describeTransport, multicastBody, teeBody } from '../mcast-client/index.ts';
import type { ReceiverReport } from '../mcast/index.ts';
import { normalizeMac } from '../wire/mac.ts';
import { LATEST } from '../pool/index.ts';
import { formatBytes, parsePublicKey, readPublicKeyFile } from '../stream/index.ts';
import { createProgressLine } from '../stream/progress-line.ts';
import { receiveTemplate } from '../stream/receive.ts';
import { describeRef } from '../stream/template-api.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import type { CommandIo } from './machines.ts';

const USAGE = `usage: trowel template receive --server URL --name NAME --arch ARCH --into DIR
                               (--key FILE | --key-base64 B64) [--version VERSION] [--parent VERSION]
                               [--multicast | --tee --mac MAC [--token T] [--interface ADDR]]

options:
  --server URL      the trowel server to receive from (default $TROWEL_SERVER)
  --name NAME       template name, e.g. org.example.Desktop
  --arch ARCH       x86_64 or aarch64
  --version V       a version (YYYYMMDDThhmmssZ) or latest (default latest)
  --parent V        receive incrementally from V, already received into DIR
  --into DIR        a directory on a btrfs filesystem
  --key FILE        the server's public key (PEM, from "trowel keys show")
  --key-base64 B64  the same key as base64 SPKI DER (the trowel.key= form)
  --multicast       receive the server's multicast session of the stream (HTTP when the server has none)
  --tee             fetch over HTTP and send it on as a multicast session on this segment
  --mac MAC         the machine asking for the session (with --multicast or --tee)
  --token T         that machine's token, or the admin token (default $TROWEL_TOKEN)
  --interface ADDR  the local address to join or send on (default: the one that reaches the server)`;

const OPTIONS = {
  server: { type: 'string' },
  name: { type: 'string' },
  arch: { type: 'string' },
  version: { type: 'string' },
  parent: { type: 'string' },
  into: { type: 'string' },
  key: { type: 'string' },
  'key-base64': { type: 'string' },
  multicast: { type: 'boolean' },
  tee: { type: 'boolean' },
  mac: { type: 'string' },
  token: { type: 'string' },
  interface: { type: 'string' },
} as const;

/** Output for commands that draw progress: stderr's terminal facts decide the rendering. */
export interface ProgressIo extends CommandIo {
  stderrIsTTY?: boolean;
  stderrColumns?: number;
}

export const processIo: ProgressIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  stderrIsTTY: process.stderr.isTTY,
  stderrColumns: process.stderr.columns,
};

/** Callers that pass a plain CommandIo (trowel template) leave the terminal question to process.stderr. */
export function stderrIsTTY(io: ProgressIo): boolean {
  return io.stderrIsTTY ?? process.stderr.isTTY === true;
}

/** The pinned key from --key FILE or --key-base64 (exactly one); a usage error otherwise. */
export async function pinnedKey(values: { key?: string; 'key-base64'?: string }, usage: string): Promise<KeyObject> {
  if ((values.key === undefined) === (values['key-base64'] === undefined)) {
    throw new UsageError('give the server\'s public key with exactly one of --key FILE or --key-base64 B64', usage);
  }
  return values.key !== undefined ? readPublicKeyFile(values.key) : parsePublicKey(values['key-base64']!, '--key-base64');
}

/** A server URL from the option or $TROWEL_SERVER; a usage error unless http(s). */
export function serverUrl(value: string | undefined, env: NodeJS.ProcessEnv, option: string, usage: string): string {
  const server = value ?? env.TROWEL_SERVER;
  if (server === undefined) throw new UsageError(`missing ${option} URL`, usage);
  if (!URL.canParse(server) || !/^https?:$/.test(new URL(server).protocol)) throw new UsageError(`${option} must be an http:// URL, not "${server}"`, usage);
  return server;
}

/** `argv` is what follows `trowel template receive` (a leading "receive" is tolerated). */
export async function templateReceiveCommand(argv: string[], io: ProgressIo = processIo): Promise<number> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`trowel template receive: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  // On a terminal the progress line has no newline until it finishes: anything else printed starts a new line.
  let drawn = false;
  const newline = () => (stderrIsTTY(io) && drawn ? '\n' : '');
  try {
    const server = serverUrl(values.server, io.env, '--server', USAGE);
    for (const required of ['name', 'arch', 'into'] as const) {
      if (values[required] === undefined) throw new UsageError(`missing --${required}`, USAGE);
    }
    const publicKey = await pinnedKey(values, USAGE);
    const body = transportBody(values, server, io, (message) => {
      io.stderr(`${newline()}${message}\n`);
      drawn = false;
    });
    const line = createProgressLine({ write: io.stderr, isTTY: stderrIsTTY(io), columns: io.stderrColumns ?? process.stderr.columns });
    let label = describeRef({ name: values.name!, arch: values.arch!, version: values.version ?? LATEST }, values.parent ?? null);
    let last: Parameters<typeof line.update>[1] | undefined;
    const received = await receiveTemplate({
      server,
      name: values.name!,
      arch: values.arch!,
      version: values.version ?? LATEST,
      parent: values.parent ?? null,
      intoDir: values.into!,
      publicKey,
      body,
      // Warnings (a tee session nobody joined, a fallback to HTTP) on stderr; TROWEL_LOG=info|debug shows more.
      log: createLogger('receive', (r) => {
        io.stderr(`${newline()}${JSON.stringify(r)}\n`);
        drawn = false;
      }, LogLevel[(io.env.TROWEL_LOG as LogLevelName | undefined) ?? 'warn'] ?? LogLevel.warn),
      onManifest: (m) => (label = describeRef(m, m.parent)),
      onProgress: (p) => {
        line.update(label, (last = p));
        drawn = true;
      },
      onRetry: (r) => {
        io.stderr(`${newline()}${label}: ${r.reason}; resuming from byte ${r.received} in ${(r.delayMs / 1000).toFixed(1)} s\n`);
        drawn = false;
      },
    });
    if (last) line.finish(label, last);
    io.stdout(`${received.path}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`trowel template receive: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`${newline()}trowel: ${describeError(e)}\n`);
    return 1;
  }
}

/** @private The multicast or tee body source the options ask for, or undefined for HTTP. */
function transportBody(values: ReturnType<typeof parse>, server: string, io: ProgressIo, say: (message: string) => void) {
  if (values.multicast && values.tee) throw new UsageError('give --multicast or --tee, not both', USAGE);
  if (!values.multicast && !values.tee) {
    for (const only of ['mac', 'token', 'interface'] as const) if (values[only] !== undefined) throw new UsageError(`--${only} goes with --multicast or --tee`, USAGE);
    return undefined;
  }
  const mac = values.mac === undefined ? undefined : normalizeMac(values.mac);
  if (mac === undefined) throw new UsageError(values.mac === undefined ? 'missing --mac (the machine asking for the session)' : `"${values.mac}" is not a MAC address`, USAGE);
  const token = values.token ?? io.env.TROWEL_TOKEN;
  if (token === undefined) throw new UsageError('missing --token (the machine\'s token or the admin token)', USAGE);
  const options = {
    server, mac, token, interfaceAddress: values.interface,
    onTransport: (n: Parameters<typeof describeTransport>[0]) => say(describeTransport(n)),
    onReport: (r: ReceiverReport) => say(
      `multicast: ${formatBytes(r.bytes)} in ${r.seconds.toFixed(1)} s, ${r.repaired} blocks rebuilt from parity, ${r.lost} packets lost, ` +
      `${formatBytes(r.fetchedBytes)} fetched over http${r.dropped ? ' (dropped by the sender)' : ''}, ${r.badPackets} packets rejected`,
    ),
  };
  return values.tee ? teeBody(options) : multicastBody(options);
}

/** @private */
function parse(argv: string[]) {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE, true);
  const extra = positionals[0] === 'receive' ? positionals.slice(1) : positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, USAGE);
  return values;
}
