/**
 * The compressed stream from a multicast session instead of HTTP (a body
 * source for receiveTemplate, src/stream/receive.ts): ask the server for
 * the session, receive it into a spool file beside the receive (on the
 * target's pool filesystem, named like a staging leftover so a crashed
 * run's spool is swept by the next receive), fill what multicast did not
 * bring by HTTP Range, and delete the spool afterwards. The bytes then pass
 * the same digest and manifest checks as an HTTP download.
 *
 * A server with multicast off is not a failure: the body comes over HTTP
 * and the caller hears why (onTransport).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { TrowelError } from '../errors.ts';
import { defaultBlockSize, interfaceMtu, receiveFile, type ReceiverReport } from '../mcast/index.ts';
import { stagingName } from '../stream/receive-staging.ts';
import type { BodyContext, BodySource } from '../stream/receive.ts';
import { rangeFetcher } from './fetch-range.ts';
import { localAddressFor } from './local-address.ts';
import { requestOffer, type OfferRequest, type SessionOffer } from './offer.ts';
import type { TransportNote } from './transport.ts';

export interface MulticastBodyOptions {
  server: string;
  /** The machine the session is asked for, and its token (or the admin token). */
  mac: string;
  token: string;
  /** The local address to join on (default: the one that routes to the server). */
  interfaceAddress?: string;
  /** Silence before the receiver gives up, on top of the session's gathering window (default 60 s). */
  timeoutMs?: number;
  onTransport?: (note: TransportNote) => void;
  onReport?: (report: ReceiverReport) => void;
  dispatcher?: Dispatcher;
}

export function multicastBody(options: MulticastBodyOptions): (context: BodyContext) => Promise<BodySource> {
  return async (context) => {
    const answer = await requestOffer(offerRequest(options, context, false, await interfaceFor(options)));
    if (answer.kind === 'unavailable') {
      context.log.warn('multicast_unavailable', { reason: answer.reason });
      options.onTransport?.({ transport: 'http', reason: `the server offers no multicast (${answer.reason})` });
      return { stream: context.http() };
    }
    return receiveSession(answer.offer, options, context);
  };
}

/** Receives one offered session into a spool file; shared with the tee's receivers. */
export async function receiveSession(offer: SessionOffer, options: MulticastBodyOptions, context: BodyContext): Promise<BodySource> {
  checkOffer(offer, context);
  const interfaceAddress = await interfaceFor(options);
  const spoolFile = join(context.intoDir, stagingName());
  const stop = new AbortController();
  const onAbort = () => stop.abort(context.signal?.reason);
  context.signal?.addEventListener('abort', onAbort, { once: true });
  const received = receiveFile({
    group: offer.group, port: offer.port, interfaceAddress, sessionId: offer.sessionId, key: offer.key, spoolFile,
    senderAddress: offer.senderAddress,
    fetchRange: rangeFetcher(context.streamUrl, `"${context.manifest.sha256}"`, { dispatcher: options.dispatcher, signal: stop.signal, alignment: blockSizeOn(interfaceAddress) }),
    timeoutMs: offer.startsInMs + (options.timeoutMs ?? 60_000),
    log: context.log,
    signal: stop.signal,
    onProgress: (p) => context.progress(p.bytes),
  });
  options.onTransport?.({ transport: 'multicast', role: 'receiver', offer, interfaceAddress });
  context.log.info('multicast_receive', { sessionId: offer.sessionId, group: offer.group, port: offer.port, interfaceAddress, spoolFile });
  const done = received.done.then(
    (report) => {
      context.log.info('multicast_received', { sessionId: offer.sessionId, ...report });
      options.onReport?.(report);
      return report;
    },
    (e: unknown) => {
      throw e instanceof TrowelError && e.code.startsWith('EMCAST')
        ? e
        : new TrowelError('EMCAST', `Cannot receive multicast session ${offer.sessionId}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    },
  );
  // Nobody may await `done` when the receive fails early: keep its rejection from going unhandled.
  done.catch(() => {});
  return {
    stream: received.readable,
    done,
    cleanup: async () => {
      context.signal?.removeEventListener('abort', onAbort);
      stop.abort(new Error('the receive is over'));
      await done.catch(() => {});
      await rm(spoolFile, { force: true });
    },
  };
}

/**
 * @private The block size a sender on this segment uses (the sender's MTU is
 * assumed to be this interface's), so HTTP fills land on block boundaries.
 */
function blockSizeOn(interfaceAddress: string): number | undefined {
  try {
    return defaultBlockSize(interfaceMtu(interfaceAddress));
  } catch {
    return undefined;
  }
}

/** @private The request for this receive's stream. */
/** `address`: where this machine joins or sends, so the server can tell its segment (a tee's session reaches only its own). */
export function offerRequest(options: Pick<MulticastBodyOptions, 'server' | 'mac' | 'token' | 'dispatcher'>, context: BodyContext, tee: boolean, address: string): OfferRequest {
  return {
    server: options.server, mac: options.mac, token: options.token, dispatcher: options.dispatcher, tee, address,
    name: context.ref.name, arch: context.ref.arch, version: context.ref.version, parent: context.parent,
  };
}

/** The local address multicast goes through: given, or the one that routes to the server. */
export async function interfaceFor(options: Pick<MulticastBodyOptions, 'server' | 'interfaceAddress'>): Promise<string> {
  return options.interfaceAddress ?? (await localAddressFor(new URL(options.server).hostname));
}

/** @private A session for other bytes than the signed manifest's would fail the digest check at the very end: refuse it now. */
function checkOffer(offer: SessionOffer, context: BodyContext): void {
  const m = context.manifest;
  if (offer.sha256 !== m.sha256 || offer.totalBytes !== m.compressedSize) {
    throw new TrowelError('EMCASTOFFER', `Cannot use multicast session ${offer.sessionId}: it carries ${offer.totalBytes} bytes with sha-256 ${offer.sha256.slice(0, 12)}…, the signed manifest says ${m.compressedSize} bytes with ${m.sha256.slice(0, 12)}…`);
  }
}
