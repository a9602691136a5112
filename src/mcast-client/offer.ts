/**
 * Asks the server which multicast session to use for a stream
 * (POST /api/v1/machines/<mac>/multicast with the machine's token, or the
 * admin's). A server with multicast off, or without streams, is not an
 * error here: the caller falls back to HTTP and says why.
 */
import { request, type Dispatcher } from 'undici';
import { TrowelError } from '../errors.ts';
import { isIpv4 } from '../wire/ipv4.ts';

export interface SessionOffer {
  role: 'receiver' | 'sender';
  sessionId: number;
  group: string;
  port: number;
  key: Buffer;
  sender: string;
  /** The sender's IPv4 address, when the server knows it: the receiver takes packets only from it. */
  senderAddress: string | undefined;
  sha256: string;
  totalBytes: number;
  state: string;
  rateBitsPerSecond: number;
  minReceivers: number;
  maxWaitMs: number;
  startsInMs: number;
  /** The address the server saw this request come from. */
  yourAddress: string | undefined;
}

export type OfferAnswer = { kind: 'offer'; offer: SessionOffer } | { kind: 'unavailable'; reason: string };

export interface OfferRequest {
  server: string;
  mac: string;
  token: string;
  name: string;
  arch: string;
  version: string;
  parent: string | null;
  tee?: boolean;
  /** The local address this machine joins or sends on: its segment, for the server. */
  address?: string;
  dispatcher?: Dispatcher;
  timeoutMs?: number;
}

/** Codes of answers that mean "no multicast here": fall back to HTTP. */
const UNAVAILABLE = new Set(['multicast_disabled', 'multicast_unavailable']);

export async function requestOffer(r: OfferRequest): Promise<OfferAnswer> {
  const server = r.server.replace(/\/+$/, '');
  const url = `${server}/api/v1/machines/${encodeURIComponent(r.mac)}/multicast`;
  const timeout = r.timeoutMs ?? 60_000;
  let status: number;
  let text: string;
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${r.token}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ name: r.name, arch: r.arch, version: r.version, parent: r.parent, tee: r.tee === true, address: r.address }),
      // The server may make the stream (btrfs send) before it answers.
      headersTimeout: timeout,
      bodyTimeout: timeout,
      dispatcher: r.dispatcher,
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (e) {
    const err = e as { code?: string; message?: string };
    throw new TrowelError('EUNREACHABLE', `Cannot reach server ${server}: ${err.code ?? err.message ?? String(e)}`, { cause: e });
  }
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const error = body?.error as { code?: unknown; message?: unknown } | undefined;
  if (status < 200 || status > 299) {
    const message = typeof error?.message === 'string' ? error.message.replace(/^Cannot [^:]+: /, '') : 'no reason given';
    if (typeof error?.code === 'string' && UNAVAILABLE.has(error.code)) return { kind: 'unavailable', reason: message };
    throw new TrowelError(status === 401 || status === 403 ? 'EFORBIDDEN' : 'ESERVER', `Cannot ask for a multicast session: server says ${status}${typeof error?.code === 'string' ? ` (${error.code})` : ''}: ${message}`);
  }
  return { kind: 'offer', offer: parseOffer(body, server) };
}

/** @private Checks the answer's shape: these values become socket options and a key. */
function parseOffer(body: Record<string, unknown> | undefined, server: string): SessionOffer {
  const bad = (what: string) => new TrowelError('ESERVER', `Cannot use the multicast session from ${server}: ${what}`);
  if (!body) throw bad('the answer is not JSON');
  const num = (k: string, max = Number.MAX_SAFE_INTEGER) => {
    const v = body[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw bad(`"${k}" is not a whole number`);
    return v;
  };
  const str = (k: string) => {
    const v = body[k];
    if (typeof v !== 'string') throw bad(`"${k}" is missing`);
    return v;
  };
  const key = Buffer.from(str('key'), 'base64');
  if (key.length !== 32) throw bad('the session key is not 32 bytes');
  const role = str('role');
  if (role !== 'receiver' && role !== 'sender') throw bad(`"role" is ${JSON.stringify(role)}`);
  const group = str('group');
  if (!/^2(2[4-9]|3\d)\.\d+\.\d+\.\d+$/.test(group)) throw bad(`"group" ${group} is not a multicast address`);
  return {
    role, sessionId: num('sessionId', 0xffffffff), group, port: num('port', 65535), key, sender: str('sender'), sha256: str('sha256'),
    totalBytes: num('totalBytes'), state: str('state'), rateBitsPerSecond: num('rateBitsPerSecond'), minReceivers: num('minReceivers'),
    maxWaitMs: num('maxWaitMs'), startsInMs: num('startsInMs'), yourAddress: typeof body.yourAddress === 'string' ? body.yourAddress : undefined,
    senderAddress: typeof body.senderAddress === 'string' && isIpv4(body.senderAddress) && body.senderAddress !== '0.0.0.0' ? body.senderAddress : undefined,
  };
}

/** A tee machine's report on the session it sends (PUT /api/v1/machines/<mac>/multicast/<session>); answers the machines that asked for it. */
export async function reportTee(
  r: Pick<OfferRequest, 'server' | 'mac' | 'token' | 'dispatcher'>,
  sessionId: number,
  report: { state: 'sending' | 'done' | 'failed'; error?: string } & Partial<Record<'receivers' | 'completed' | 'dropped' | 'bytesSent' | 'repairs' | 'loss' | 'rateBitsPerSecond', number>>,
): Promise<{ machines: string[] }> {
  const url = `${r.server.replace(/\/+$/, '')}/api/v1/machines/${encodeURIComponent(r.mac)}/multicast/${sessionId}`;
  const response = await request(url, {
    method: 'PUT',
    headers: { authorization: `Bearer ${r.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(report),
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
    dispatcher: r.dispatcher,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new TrowelError('ESERVER', `Cannot report on multicast session ${sessionId}: server says ${response.statusCode}`);
  const machines = (JSON.parse(text) as { session?: { machines?: unknown } }).session?.machines;
  return { machines: Array.isArray(machines) ? machines.filter((m): m is string => typeof m === 'string') : [] };
}
