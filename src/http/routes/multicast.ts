/**
 * Multicast sessions over HTTP (docs/multicast-sessions.md):
 * - POST /api/v1/machines/:mac/multicast, with the machine's own token (or
 *   the admin's, for `trowel template receive --multicast` by hand): the
 *   session it should receive (or, tee, send) a stream from. The answer
 *   carries the session key, so this authenticated route is the only place
 *   the key ever leaves the server.
 * - PUT /api/v1/machines/:mac/multicast/:session: a tee machine reports on
 *   the session it sends.
 * - GET /api/v1/multicast/sessions[/:id]: open, read-only, never a key.
 * - POST /api/v1/multicast/sessions (admin): `trowel mcast send`.
 */
import { parseDurationSeconds, parseRate } from '../../config/index.ts';
import { TrowelError } from '../../errors.ts';
import type { McastSessions, SessionStats, StreamKey } from '../../mcast-server/index.ts';
import { LATEST, validateArch, validateName, validateVersion } from '../../pool/index.ts';
import { EventKind } from '../../store/index.ts';
import { isIpv4 } from '../../wire/ipv4.ts';
import { bearerToken, requireAdmin, requireMachine, tokensEqual } from '../auth.ts';
import type { Handler } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { readJson } from '../read-json.ts';
import { json } from '../respond.ts';
import type { RouteDeps } from './deps.ts';
import { macParam } from './machines.ts';
import { streamFailure } from './stream-failure.ts';

const STREAM_BODY = '{"name": "org.example.Desktop", "arch": "x86_64", "version": "20260101T000000Z", "parent": null}';

export function machineMulticastRoute(deps: RouteDeps): Handler {
  return async ({ request, params, peer, log }) => {
    const mac = macParam(params['mac']);
    const token = bearerToken(request);
    if (token === undefined || !tokensEqual(token, deps.adminToken)) requireMachine(request, deps.machines, mac);
    const mcast = requireSessions(deps);
    const body = await readJson(request, 'offer a multicast session', STREAM_BODY);
    const stream = await streamOf(deps, body);
    const tee = (body as { tee?: unknown }).tee === true;
    const offer = await translate(() => mcast.offer(stream, mac, { tee, address: segmentAddress(body, peer) }), stream);
    if (deps.machines.get(mac)) deps.events?.append(mac, EventKind.log, {
      line: `multicast: session ${offer.sessionId} on ${offer.group}:${offer.port} as ${offer.role}${offer.startsInMs > 0 ? `, sending in ${Math.ceil(offer.startsInMs / 1000)} s` : ''}`,
    });
    log.info('mcast_offered', { peer, mac, sessionId: offer.sessionId, role: offer.role });
    return json({ ...offer, yourAddress: peer });
  };
}

export function teeReportRoute(deps: RouteDeps): Handler {
  return async ({ request, params }) => {
    const mac = macParam(params['mac']);
    requireMachine(request, deps.machines, mac);
    const mcast = requireSessions(deps);
    const sessionId = sessionParam(params['session']);
    const b = objectOf(await readJson(request, 'record the report', '{"state": "sending|done|failed", "bytesSent": 0, ...}'));
    const stats: Partial<SessionStats> = {};
    for (const key of ['receivers', 'completed', 'dropped', 'bytesSent', 'repairs', 'loss', 'rateBitsPerSecond'] as const) {
      const v = b[key];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(`"${key}" must be a non-negative number`);
      stats[key] = v;
    }
    const state = b.state ?? 'sending';
    if (state !== 'sending' && state !== 'done' && state !== 'failed') throw invalid('"state" must be sending, done or failed');
    const error = typeof b.error === 'string' ? b.error.slice(0, 500) : 'the tee machine gave up';
    try {
      return json({ session: mcast.report(mac, sessionId, stats, state === 'sending' ? undefined : state === 'done' ? {} : { error }) });
    } catch (e) {
      if (e instanceof TrowelError && e.code === 'ENOSESSION') throw new HttpError(404, 'session_not_found', e.message);
      throw e;
    }
  };
}

export function listSessionsRoute(deps: RouteDeps): Handler {
  return () => json({ enabled: deps.mcast?.enabled ?? false, sessions: deps.mcast?.list() ?? [] });
}

export function showSessionRoute(deps: RouteDeps): Handler {
  return ({ params }) => {
    const id = sessionParam(params['session']);
    const session = deps.mcast?.get(id);
    if (!session) throw new HttpError(404, 'session_not_found', `Cannot find multicast session ${id}: no such session (ended sessions are kept only for a while)`);
    return json({ session });
  };
}

/** POST (admin): `{name, arch, version, parent?, minReceivers?, maxWait?: "60s", rate?: "900M"}`. */
export function startSessionRoute(deps: RouteDeps): Handler {
  return async ({ request, peer, log }) => {
    requireAdmin(request, deps.adminToken);
    const mcast = requireSessions(deps);
    const body = objectOf(await readJson(request, 'start a multicast session', STREAM_BODY));
    const stream = await streamOf(deps, body);
    const settings: { minReceivers?: number; maxWaitMs?: number; rateBitsPerSecond?: number } = {};
    if (body.minReceivers !== undefined) {
      if (!Number.isInteger(body.minReceivers) || (body.minReceivers as number) < 1) throw invalid('"minReceivers" must be a whole number from 1');
      settings.minReceivers = body.minReceivers as number;
    }
    if (body.maxWait !== undefined) {
      const seconds = typeof body.maxWait === 'number' ? body.maxWait : parseDurationSeconds(String(body.maxWait));
      if (seconds === undefined || !(seconds > 0)) throw invalid('"maxWait" must be a duration like 60s or 5m');
      settings.maxWaitMs = seconds * 1000;
    }
    if (body.rate !== undefined) {
      const rate = typeof body.rate === 'number' ? body.rate : parseRate(String(body.rate));
      if (rate === undefined || !(rate >= 1e6)) throw invalid('"rate" must be a rate like 900M or 1G (bits per second, at least 1M)');
      settings.rateBitsPerSecond = rate;
    }
    const started = await translate(() => mcast.start(stream, settings), stream);
    log.info('mcast_session_requested', { peer, sessionId: started.session.sessionId, existing: started.existing, ...stream });
    return json(started, started.existing ? 200 : 201);
  };
}

/** @private */
function requireSessions(deps: RouteDeps): McastSessions {
  if (!deps.mcast) throw new HttpError(503, 'multicast_unavailable', 'Cannot offer multicast: this server has no template streams (pool or signing key missing)');
  if (!deps.mcast.enabled) throw new HttpError(409, 'multicast_disabled', 'Cannot offer multicast: multicast is off on this server (mcast.enabled in trowel.yaml)');
  return deps.mcast;
}

/** @private The stream a body names; `latest` is resolved to a version here, so a session always names one. */
async function streamOf(deps: RouteDeps, raw: unknown): Promise<StreamKey> {
  const b = objectOf(raw);
  let stream: StreamKey;
  try {
    const name = validateName(String(b.name ?? ''));
    const arch = validateArch(String(b.arch ?? ''));
    const version = b.version === undefined || b.version === LATEST ? LATEST : validateVersion(String(b.version));
    const parent = b.parent === undefined || b.parent === null ? null : validateVersion(String(b.parent));
    stream = { name, arch, version, parent };
  } catch (e) {
    if (!(e instanceof TrowelError)) throw e;
    throw new HttpError(400, 'invalid_name', e.message);
  }
  if (!deps.pool) throw new HttpError(503, 'pool_unavailable', 'Cannot answer template requests: this server has no template pool');
  const found = await deps.pool.get(stream.name, stream.arch as 'x86_64', stream.version);
  if (!found) throw new HttpError(404, 'version_not_found', `Cannot find ${stream.name} ${stream.arch} ${stream.version}: no such version`);
  return { ...stream, version: found.version };
}

/** @private Errors of making the stream, as the template routes answer them. */
async function translate<T>(work: () => Promise<T>, stream: StreamKey): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof TrowelError && e.code === 'EMCASTOFF') throw new HttpError(409, 'multicast_disabled', e.message);
    if (e instanceof TrowelError && e.code === 'ENOVERSION') throw new HttpError(404, 'version_not_found', e.message);
    if (e instanceof TrowelError && e.code === 'ENOPARENT') throw new HttpError(404, 'parent_not_found', e.message);
    throw streamFailure(e, `${stream.name} ${stream.arch} ${stream.version}`) ?? e;
  }
}

/** @private */
function sessionParam(raw: string | undefined): number {
  const id = Number(raw);
  if (!/^\d{1,10}$/.test(raw ?? '') || id < 1 || id > 0xffffffff) throw new HttpError(400, 'invalid_session', `Cannot find the session: "${raw ?? ''}" is not a session id`);
  return id;
}

/** @private */
function objectOf(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** @private */
/**
 * Where the machine joins or sends multicast: the `address` it names (a tee
 * may fetch through one interface and send on another), else the address
 * its request came from.
 */
function segmentAddress(body: unknown, peer: string): string {
  const address = (body as { address?: unknown }).address;
  if (address === undefined || address === null) return peer;
  if (typeof address !== 'string' || !isIpv4(address)) throw invalid(`"address" must be an IPv4 address, not ${JSON.stringify(address)}`);
  return address;
}

function invalid(problem: string): HttpError {
  return new HttpError(400, 'invalid_request', `Cannot start the multicast session: ${problem}`);
}
