/**
 * The receive step's transport (kernel argument `trowel.transport=`):
 * `http` downloads the stream; `multicast` receives the session the server
 * offers; `tee` downloads and sends it on as a session on this segment.
 * Whatever the transport, receiveTemplate verifies the same bytes the same
 * way. The choice is said in the receive step's events; a multicast that
 * cannot be had (no machine token, multicast off on the server, a session
 * that failed) falls back to HTTP with a warning instead of failing the
 * install (docs/multicast-sessions.md, "Fallback").
 */
import { describeError, TrowelError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { ReceiverReport } from '../mcast/index.ts';
import { describeTransport, multicastBody, teeBody, type TransportNote } from '../mcast-client/index.ts';
import { formatBytes } from '../stream/index.ts';
import type { ReceiveOptions } from '../stream/receive.ts';
import type { StreamTransport } from './cmdline.ts';

export interface TransportChoice {
  transport: StreamTransport;
  server: string;
  mac: string | undefined;
  token: string | undefined;
  log: Logger;
  /** A line for the receive step's events: which transport, or why not (`transport`), or what multicast brought (`report`). */
  note: (message: string, kind?: 'transport' | 'report') => void;
}

/** The body source for receiveTemplate, or undefined for plain HTTP. */
export function receiveBody(choice: TransportChoice): ReceiveOptions['body'] {
  if (choice.transport === 'http') return undefined;
  if (!choice.mac || !choice.token) {
    choice.note(`warning: over http: ${choice.transport} needs trowel.mac= and trowel.token= to ask the server for a session`);
    return undefined;
  }
  const options = {
    server: choice.server, mac: choice.mac, token: choice.token,
    onTransport: (n: TransportNote) => choice.note(n.transport === 'http' ? `warning: ${describeTransport(n)}` : describeTransport(n)),
    onReport: (r: ReceiverReport) => choice.note(describeReport(r), 'report'),
  };
  return choice.transport === 'tee' ? teeBody(options) : multicastBody(options);
}

/** What a multicast receive brought, for the receive step's events. */
export function describeReport(r: ReceiverReport): string {
  return `multicast: ${formatBytes(r.bytes - r.fetchedBytes)} by multicast, ${formatBytes(r.fetchedBytes)} over http` +
    `${r.dropped ? ' (the sender dropped this machine as too slow)' : ''}, ${r.repaired} blocks rebuilt from parity, loss ${(r.loss * 100).toFixed(1)}%`;
}

/**
 * Runs a receive with the chosen body; when a multicast receive fails for a
 * multicast reason (EMCAST…: no session heard, dropped without a way to
 * fetch, a session for other bytes), runs it once more over HTTP. Digest
 * and signature failures are not retried: other bytes over HTTP would be
 * the same bytes.
 */
export async function withHttpFallback<T>(body: ReceiveOptions['body'], receive: (body: ReceiveOptions['body']) => Promise<T>, choice: TransportChoice): Promise<T> {
  if (body === undefined) return receive(undefined);
  try {
    return await receive(body);
  } catch (e) {
    if (!(e instanceof TrowelError) || !e.code.startsWith('EMCAST')) throw e;
    choice.log.warn('multicast_fallback', { error: describeError(e) });
    choice.note(`warning: over http: the multicast receive failed (${describeError(e)})`);
    return receive(undefined);
  }
}
