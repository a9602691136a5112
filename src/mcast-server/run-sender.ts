/**
 * The server's sender: a session plan handed to mcast's sendFile, its
 * stats and final report turned into the session's own numbers.
 */
import { sendFile, type SenderReport, type SenderStats } from '../mcast/index.ts';
import type { RunSender, SessionStats } from './session.ts';

export const runMcastSender: RunSender = async (plan, hooks) => {
  let last: SessionStats | undefined;
  const report = await sendFile({
    group: plan.group,
    port: plan.port,
    interfaceAddress: plan.interfaceAddress,
    sessionId: plan.sessionId,
    key: plan.key,
    file: plan.file,
    totalBytes: plan.totalBytes,
    rateBitsPerSecond: plan.rateBitsPerSecond,
    minReceivers: plan.minReceivers,
    maxWaitMs: plan.maxWaitMs,
    dropAfterMs: plan.dropAfterMs,
    log: hooks.log,
    signal: hooks.signal,
    onStats: (s) => hooks.onStats((last = statsOf(s))),
  });
  return finalStats(report, plan.totalBytes, last);
};

/** Stats of a running sender. */
export function statsOf(s: SenderStats): SessionStats {
  return {
    receivers: s.receivers, completed: s.done, dropped: s.dropped, bytesSent: s.bytesSent,
    repairs: s.repairs, loss: s.loss, rateBitsPerSecond: s.rateBitsPerSecond,
  };
}

/** The numbers of a session that ended: who finished, who was dropped, what it cost. */
export function finalStats(r: SenderReport, totalBytes: number, last: SessionStats | undefined): SessionStats {
  return {
    receivers: 0,
    completed: r.receivers.filter((x) => x.state === 'done').length,
    dropped: r.receivers.filter((x) => x.state === 'dropped').length,
    bytesSent: Math.min(r.bytes, totalBytes),
    repairs: r.repairs,
    loss: Math.max(last?.loss ?? 0, ...r.receivers.map((x) => x.loss)),
    rateBitsPerSecond: r.dataSeconds > 0 ? Math.round((r.bytes * 8) / r.dataSeconds) : r.rateBitsPerSecond,
  };
}
