/**
 * Tee mode (`trowel.transport=tee`, docs/multicast-sessions.md): this
 * machine fetches the stream over HTTP as usual and sends it on as a
 * multicast session on its own segment, so the machines there that ask
 * for the same stream get it from here instead of each fetching it. The
 * download is written to a spool file as it arrives, and the sender never
 * sends a block past what the spool holds (availableBytes).
 *
 * Like a server session, a tee session gathers for the window the server
 * says (startsInMs), then starts its sender and waits for every machine
 * that asked meanwhile to join (the server tells it who asked).
 *
 * The tee's own install never depends on its session: a session nobody
 * joins, or that fails, is reported to the server and logged, and the
 * receive succeeds on the verified HTTP bytes. The receive step does wait
 * for the session's end, so the machine does not reboot under its
 * receivers. If another machine already tees the stream, this one
 * receives from it like any multicast receiver.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { describeError } from '../errors.ts';
import { sendFile, type SenderStats } from '../mcast/index.ts';
import { stagingName } from '../stream/receive-staging.ts';
import type { BodyContext, BodySource } from '../stream/receive.ts';
import { interfaceFor, type MulticastBodyOptions, offerRequest, receiveSession } from './multicast-body.ts';
import { reportTee, requestOffer, type SessionOffer } from './offer.ts';

/** How long a receiver may go without progress before the tee drops it to HTTP. */
const TEE_DROP_AFTER_MS = 60_000;
/** Reports to the server at most this often while sending. */
const REPORT_EVERY_MS = 2000;

export function teeBody(options: MulticastBodyOptions): (context: BodyContext) => Promise<BodySource> {
  return async (context) => {
    const answer = await requestOffer(offerRequest(options, context, true, await interfaceFor(options)));
    if (answer.kind === 'unavailable') {
      context.log.warn('multicast_unavailable', { reason: answer.reason });
      options.onTransport?.({ transport: 'http', reason: `the server offers no multicast to tee (${answer.reason})` });
      return { stream: context.http() };
    }
    if (answer.offer.role === 'receiver') return receiveSession(answer.offer, options, context);
    return sendWhileFetching(answer.offer, options, context);
  };
}

/** @private */
async function sendWhileFetching(offer: SessionOffer, options: MulticastBodyOptions, context: BodyContext): Promise<BodySource> {
  const interfaceAddress = await interfaceFor(options);
  const spoolFile = join(context.intoDir, stagingName());
  const spool = await open(spoolFile, 'wx', 0o600);
  let written = 0;
  const stop = new AbortController();
  const onAbort = () => stop.abort(context.signal?.reason);
  context.signal?.addEventListener('abort', onAbort, { once: true });
  const report = (r: Parameters<typeof reportTee>[2]) =>
    reportTee(options, offer.sessionId, r).catch((e: unknown) => {
      context.log.warn('tee_report_failed', { sessionId: offer.sessionId, error: describeError(e) });
      return { machines: [] as string[] };
    });
  let lastReport = 0;
  const sent = (async () => {
    // Gather first; the first report moves the session to sending and says who asked meanwhile.
    await sleep(offer.startsInMs, undefined, { signal: stop.signal });
    const asked = (await report({ state: 'sending' })).machines.filter((m) => m !== options.mac).length;
    return sendFile({
      group: offer.group, port: offer.port, interfaceAddress, sessionId: offer.sessionId, key: offer.key,
      file: spoolFile, totalBytes: context.manifest.compressedSize, availableBytes: () => written,
      rateBitsPerSecond: offer.rateBitsPerSecond, minReceivers: Math.max(offer.minReceivers, asked),
      maxWaitMs: Math.max(1000, offer.maxWaitMs - offer.startsInMs),
      // The download feeding the session may stall (a busy server): receivers waiting for it are not behind.
      dropAfterMs: TEE_DROP_AFTER_MS,
      log: context.log, signal: stop.signal,
      onStats: (s) => {
        if (Date.now() - lastReport < REPORT_EVERY_MS) return;
        lastReport = Date.now();
        void report({ state: 'sending', ...statsOf(s) });
      },
    });
  })();
  options.onTransport?.({ transport: 'multicast', role: 'sender', offer, interfaceAddress });
  context.log.info('tee_sending', { sessionId: offer.sessionId, group: offer.group, port: offer.port, interfaceAddress });
  // The session is a service to others: its failure is reported, never thrown into this machine's receive.
  const done = sent.then(
    async (r) => {
      context.log.info('tee_done', { sessionId: offer.sessionId, bytes: r.bytes, seconds: r.seconds, repairs: r.repairs, receivers: r.receivers.length });
      await report({ state: 'done', bytesSent: Math.min(r.bytes, context.manifest.compressedSize), repairs: r.repairs, completed: r.receivers.filter((x) => x.state === 'done').length, dropped: r.receivers.filter((x) => x.state === 'dropped').length });
    },
    async (e: unknown) => {
      context.log.warn('tee_failed', { sessionId: offer.sessionId, error: describeError(e) });
      await report({ state: 'failed', error: describeError(e) });
    },
  );
  const download = context.http();
  const stream = spoolWriter(spool, (n) => (written = n));
  // pipe() does not pass errors on: a failed download must fail the receive, not leave it waiting.
  download.once('error', (e) => stream.destroy(e));
  download.pipe(stream);
  return {
    stream,
    done,
    cleanup: async () => {
      context.signal?.removeEventListener('abort', onAbort);
      stop.abort(new Error('the receive is over'));
      await done;
      await spool.close().catch(() => {});
      await rm(spoolFile, { force: true });
    },
  };
}

/** @private Passes each chunk on once it is in the spool file, and tells how much the file holds. */
function spoolWriter(spool: FileHandle, onWritten: (bytes: number) => void): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      spool.write(chunk, 0, chunk.length, offset).then(
        () => {
          offset += chunk.length;
          onWritten(offset);
          callback(null, chunk);
        },
        (e: unknown) => callback(e as Error),
      );
    },
  });
}

/** @private */
function statsOf(s: SenderStats) {
  return { receivers: s.receivers, completed: s.done, dropped: s.dropped, bytesSent: s.bytesSent, repairs: s.repairs, loss: s.loss, rateBitsPerSecond: s.rateBitsPerSecond };
}
