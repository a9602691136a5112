/**
 * Prometheus series of the multicast sessions: per session (labelled by
 * its id and template) receivers, bytes, repairs, loss and rate, updated
 * with every stats report; totals of sessions by how they ended and of
 * offers by role. A session's series are dropped when the session is
 * forgotten, so the label set stays bounded by `keepEnded`.
 */
import type { Counter, Gauge, MetricsRegistry } from '../metrics/registry.ts';
import type { McastSession } from './session.ts';

export class SessionMetrics {
  private readonly gauges: Record<'receivers' | 'completed' | 'bytes' | 'progress' | 'repairs' | 'loss' | 'rate', Gauge>;
  private readonly live: Gauge;
  private readonly sessions: Counter;
  private readonly offers: Counter;

  constructor(m: MetricsRegistry) {
    this.gauges = {
      receivers: m.gauge('trowel_mcast_session_receivers', 'Receivers joined to a multicast session and still receiving.'),
      completed: m.gauge('trowel_mcast_session_completed_receivers', 'Receivers of a multicast session that received the whole stream.'),
      bytes: m.gauge('trowel_mcast_session_bytes_sent', 'Stream bytes a multicast session has sent (first sends, not repairs).'),
      progress: m.gauge('trowel_mcast_session_progress_ratio', 'Share of the stream a multicast session has sent, 0 to 1.'),
      repairs: m.gauge('trowel_mcast_session_repairs', 'Repair packets (parity or resent blocks) a multicast session has sent.'),
      loss: m.gauge('trowel_mcast_session_loss_ratio', 'The worst packet loss a receiver of the session reported, 0 to 1.'),
      rate: m.gauge('trowel_mcast_session_rate_bits_per_second', 'The current sending rate of a multicast session.'),
    };
    this.live = m.gauge('trowel_mcast_sessions_live', 'Multicast sessions gathering or sending.');
    this.sessions = m.counter('trowel_mcast_sessions_total', 'Multicast sessions that ended, by origin (auto, admin, tee) and result (done, failed).');
    this.offers = m.counter('trowel_mcast_offers_total', 'Machines handed a multicast session, by role (receiver, sender).');
  }

  offered(role: string): void {
    this.offers.inc({ role });
  }

  /** Follows a new session until it ends. */
  track(session: McastSession): void {
    this.live.add(1);
    const update = (s: McastSession) => {
      const labels = labelsOf(s);
      const v = s.view();
      this.gauges.receivers.set(v.receivers, labels);
      this.gauges.completed.set(v.completed, labels);
      this.gauges.bytes.set(v.bytesSent, labels);
      this.gauges.progress.set(v.progress, labels);
      this.gauges.repairs.set(v.repairs, labels);
      this.gauges.loss.set(v.loss, labels);
      this.gauges.rate.set(s.live ? v.rateBitsPerSecond : 0, labels);
    };
    update(session);
    let counted = false;
    session.onChange((s) => {
      update(s);
      if (!s.live && !counted) {
        counted = true;
        this.live.add(-1);
        this.sessions.inc({ origin: s.origin, result: s.state });
      }
    });
  }

  forget(session: McastSession): void {
    for (const g of Object.values(this.gauges)) g.remove(labelsOf(session));
  }
}

/** @private */
function labelsOf(s: McastSession): Record<string, string> {
  return { session: String(s.sessionId), template: `${s.stream.name}/${s.stream.arch}/${s.stream.version}` };
}
