/**
 * `trowel mcast send`: asks the running server to start a multicast
 * session of a template stream (admin token, like `trowel machines
 * set-plan`), then follows it until it ends: a progress line on stderr, one
 * summary line at the end, exit 0 when the session completed and 1 when it
 * failed. Machines that ask for that stream meanwhile
 * (trowel.transport=multicast) receive it. Wiring only: the session lives
 * in the server (src/mcast-server).
 */
import { join } from 'node:path';
import { parseDurationSeconds, parseRate } from '../config/index.ts';
import { describeError, TrowelError } from '../errors.ts';
import { ADMIN_TOKEN_FILE, readAdminToken } from '../http/index.ts';
import type { SessionView } from '../mcast-server/index.ts';
import { LATEST } from '../pool/index.ts';
import { formatBytes } from '../stream/index.ts';
import { createProgressLine } from '../stream/progress-line.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { processIo, stderrIsTTY, type ProgressIo } from './template-receive.ts';

const USAGE = `usage: trowel mcast send --name NAME --arch ARCH [--version V] [--parent V]
                         [--min-receivers N] [--max-wait 60s] [--rate 900M]

Starts a multicast session of a template stream on the server and follows it
until it ends. Machines provisioning that stream with trowel.transport=multicast
join it; it starts once N have joined, or after --max-wait with those it has.

options:
  --name NAME         template name, e.g. org.example.Desktop
  --arch ARCH         x86_64 or aarch64
  --version V         a version or latest (default latest)
  --parent V          send the incremental stream from V
  --min-receivers N   wait for N receivers (default: mcast.minReceivers of trowel.yaml)
  --max-wait D        start anyway after D with at least one receiver (default: mcast.maxWait)
  --rate R            rate cap in bit/s with k/M/G, e.g. 900M (default: mcast.rate)
  --server URL        trowel server (default $TROWEL_SERVER, else http://127.0.0.1:8080)
  --token TOKEN       admin token (default $TROWEL_TOKEN, else <state-dir>/admin.token)
  --state-dir DIR     where the server keeps admin.token (default /var/lib/trowel)
  --poll D            how often to ask for progress (default 1s)`;

const OPTIONS = {
  name: { type: 'string' },
  arch: { type: 'string' },
  version: { type: 'string' },
  parent: { type: 'string' },
  'min-receivers': { type: 'string' },
  'max-wait': { type: 'string' },
  rate: { type: 'string' },
  server: { type: 'string' },
  token: { type: 'string' },
  'state-dir': { type: 'string' },
  poll: { type: 'string' },
} as const;

interface SendRequest {
  server: string;
  token: string;
  pollMs: number;
  body: Record<string, unknown>;
}

/** `argv` is what follows `trowel mcast send`. */
export async function mcastSendCommand(argv: string[], io: ProgressIo = processIo): Promise<number> {
  let request: SendRequest | 'help';
  try {
    request = parse(argv, io.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`trowel mcast send: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (request === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    const started = (await call(request, 'start the session', 'POST', '/api/v1/multicast/sessions', request.body)) as { session: SessionView; existing: boolean };
    let session = started.session;
    const label = `session ${session.sessionId} ${session.template.name} ${session.template.version}`;
    io.stderr(`${label}: ${started.existing ? 'already running, following it' : 'started'} on ${session.group}:${session.port}, ${formatBytes(session.totalBytes)}\n`);
    const line = createProgressLine({ write: io.stderr, isTTY: stderrIsTTY(io), columns: io.stderrColumns ?? process.stderr.columns });
    const startedAt = performance.now();
    while (session.state === 'gathering' || session.state === 'sending') {
      await new Promise((r) => setTimeout(r, request.pollMs));
      session = ((await call(request, 'follow the session', 'GET', `/api/v1/multicast/sessions/${session.sessionId}`)) as { session: SessionView }).session;
      line.update(`${label} (${session.receivers} receiving, ${session.completed} done)`, snapshot(session, startedAt));
    }
    io.stderr(`${stderrIsTTY(io) ? '\n' : ''}${summary(label, session)}\n`);
    io.stdout(`${JSON.stringify(session)}\n`);
    return session.state === 'done' ? 0 : 1;
  } catch (e) {
    io.stderr(`trowel: ${describeError(e)}\n`);
    return 1;
  }
}

/** One line saying how a session ended. */
export function summary(label: string, s: SessionView): string {
  const seconds = s.startedAt && s.endedAt ? (Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000 : 0;
  const rate = seconds > 0 ? `${(s.bytesSent / 1e6 / seconds).toFixed(1)} MB/s` : '-';
  const facts = `${s.completed} receivers completed, ${s.dropped} dropped, ${formatBytes(s.bytesSent)} in ${seconds.toFixed(1)} s (${rate}), ${s.repairs} repairs, loss ${(s.loss * 100).toFixed(1)}%`;
  return s.state === 'done' ? `${label}: done: ${facts}` : `${label}: failed: ${s.error ?? 'no reason given'} (${facts})`;
}

/** @private */
function snapshot(s: SessionView, startedAt: number) {
  const left = Math.max(0, s.totalBytes - s.bytesSent);
  const bytesPerSecond = s.rateBitsPerSecond / 8;
  return {
    bytes: s.bytesSent, total: s.totalBytes, bytesPerSecond, elapsedMs: performance.now() - startedAt,
    etaSeconds: left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : undefined,
  };
}

/** @private */
function parse(argv: string[], env: NodeJS.ProcessEnv): SendRequest | 'help' {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE, true);
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, USAGE);
  for (const required of ['name', 'arch'] as const) if (values[required] === undefined) throw new UsageError(`missing --${required}`, USAGE);
  const server = values.server ?? env.TROWEL_SERVER ?? 'http://127.0.0.1:8080';
  if (!URL.canParse(server) || !/^https?:$/.test(new URL(server).protocol)) throw new UsageError(`--server must be an http:// URL, not "${server}"`, USAGE);
  const body: Record<string, unknown> = { name: values.name, arch: values.arch, version: values.version ?? LATEST, parent: values.parent ?? null };
  if (values['min-receivers'] !== undefined) {
    const n = Number(values['min-receivers']);
    if (!/^\d+$/.test(values['min-receivers']) || n < 1) throw new UsageError(`--min-receivers must be a whole number from 1, not "${values['min-receivers']}"`, USAGE);
    body.minReceivers = n;
  }
  if (values['max-wait'] !== undefined) {
    if (!((parseDurationSeconds(values['max-wait']) ?? 0) > 0)) throw new UsageError(`--max-wait must be a duration like 60s or 5m, not "${values['max-wait']}"`, USAGE);
    body.maxWait = values['max-wait'];
  }
  if (values.rate !== undefined) {
    if (parseRate(values.rate) === undefined) throw new UsageError(`--rate must be a rate from 1M to 100G bit/s like 900M, not "${values.rate}"`, USAGE);
    body.rate = values.rate;
  }
  const pollSeconds = parseDurationSeconds(values.poll ?? '1s');
  if (pollSeconds === undefined || pollSeconds <= 0) throw new UsageError(`--poll must be a duration like 1s, not "${values.poll}"`, USAGE);
  return { server: server.replace(/\/+$/, ''), token: values.token ?? env.TROWEL_TOKEN ?? adminTokenFromFile(values['state-dir'] ?? '/var/lib/trowel'), pollMs: pollSeconds * 1000, body };
}

/** @private */
function adminTokenFromFile(stateDir: string): string {
  try {
    return readAdminToken(join(stateDir, ADMIN_TOKEN_FILE));
  } catch (e) {
    throw new TrowelError('EADMINTOKEN', (e as Error).message, { hint: 'give --token, set TROWEL_TOKEN, or run this on the server', cause: e });
  }
}

/** @private One API call; a refusal becomes one sentence with the server's reason. */
async function call(r: SendRequest, what: string, method: string, path: string, payload?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(r.server + path, {
      method,
      headers: { accept: 'application/json', authorization: `Bearer ${r.token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      // Starting may first make the stream (btrfs send) on the server.
      signal: AbortSignal.timeout(method === 'POST' ? 600_000 : 15_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    throw new TrowelError('EUNREACHABLE', `Cannot reach server ${r.server}: ${cause?.code ?? (e as Error).message}`, { cause: e });
  }
  const body = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  if (!response.ok) {
    const detail = body?.error?.message?.replace(/^Cannot [^:]+: /, '') ?? response.statusText;
    throw new TrowelError('ESERVER', `Cannot ${what}: server says ${response.status}${body?.error?.code ? ` (${body.error.code})` : ''}: ${detail}`);
  }
  if (body === undefined) throw new TrowelError('ESERVER', `Cannot ${what}: ${r.server} answered without JSON (is it a trowel server?)`);
  return body;
}
