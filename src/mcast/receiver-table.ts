/**
 * The sender's view of its receivers, pure (time is passed in): who joined,
 * what each acknowledged, its loss measured over samples, and from that the
 * window the send loop may fill. The sender decides what to do with it.
 */
import type { StatusPacket } from './packet.ts';
import { LossBaseline } from './pacing.ts';

/** Packets per loss sample: over a few hundred, 5% random loss reads anywhere from 2% to 8%. */
export const LOSS_SAMPLE = 2000;
/** Window bounds in packets: at least a few groups in flight, at most what a 16 MiB buffer holds of full frames. */
export const MIN_WINDOW = 64;
export const MAX_WINDOW = 16384;
/** Share of a receiver's buffer the window may fill: the rest absorbs bursts and control packets. */
const WINDOW_SHARE = 0.6;
/** Receive buffer assumed before a receiver reports its own (Linux's default net.core.rmem_default, doubled). */
const DEFAULT_RECEIVE_BUFFER = 425984;

export interface ReceiverState {
  id: number;
  /** Its index in the table's `slots` (small, dense: the repair planner's name for it). */
  slot: number;
  address: string;
  port: number;
  state: 'active' | 'done' | 'dropped';
  reason?: string;
  lastHeard: number;
  /** The number of the last report (JOIN, STATUS, DONE) taken from it: only a higher one is new. */
  report: number;
  /** Blocks it has, and when that last grew. */
  complete: number;
  lastProgress: number;
  /** Loss over its last full sample. */
  loss: number;
  baseline: LossBaseline;
  congestedSince: number | undefined;
  /** Highest sequence number it has seen: the window's left edge is the least of these. */
  ackSeq: number;
  /** Its socket's receive buffer (bytes), which bounds the window. */
  receiveBuffer: number;
  /** Where its current loss sample started: its seq and received count then. */
  sampleSeq: number;
  sampleReceived: number;
  /** Seconds in a row it held the window while the session ran below the floor rate. */
  slowSeconds: number;
}

/**
 * What one datagram costs in a receiver's socket buffer (skb truesize), as
 * measured on veth: 2304 bytes for a 1472-byte payload, 16.6 KB for 8972
 * (page-sized allocations past one page).
 */
export function truesize(frame: number): number {
  if (frame <= 3000) return frame + 832;
  return 2 ** Math.ceil(Math.log2(frame + 320)) + 256;
}

export interface WindowView {
  /** Packets the slowest receiver may lag behind. */
  size: number;
  /** The least acknowledged sequence number among receivers that hold the window. */
  left: number;
  holder: ReceiverState;
}

export class ReceiverTable {
  readonly all = new Map<number, ReceiverState>();
  /** Receivers by slot, in the order they joined. */
  readonly slots: ReceiverState[] = [];

  /**
   * Report number `report` of receiver `id` arrived from `address:port`:
   * the receiver, added when new (`ackSeq` starts at `seq`: a late joiner
   * must not hold the window back to its first report). Undefined when the
   * number is not above the last one taken from it: a replayed or
   * duplicated packet, which must neither keep a dead receiver alive nor
   * move where its repairs go.
   */
  report(id: number, report: number, address: string, port: number, now: number, seq: number): { receiver: ReceiverState; added: boolean } | undefined {
    let r = this.all.get(id);
    if (r && report <= r.report) return undefined;
    if (!r && report < 1) return undefined;
    const added = !r;
    if (!r) {
      r = {
        id, slot: this.slots.length, address, port, state: 'active', lastHeard: now, report, complete: 0, lastProgress: now, loss: 0,
        baseline: new LossBaseline(), congestedSince: undefined, ackSeq: seq, receiveBuffer: DEFAULT_RECEIVE_BUFFER, sampleSeq: -1,
        sampleReceived: 0, slowSeconds: 0,
      };
      this.all.set(id, r);
      this.slots.push(r);
    }
    r.report = report;
    r.lastHeard = now;
    r.address = address;
    r.port = port;
    return { receiver: r, added };
  }

  /** Takes in an active receiver's STATUS; true when its loss says congestion. */
  status(r: ReceiverState, p: StatusPacket, now: number): boolean {
    if (p.complete > r.complete) {
      r.complete = p.complete;
      r.lastProgress = now;
    }
    if (p.seq > r.ackSeq) r.ackSeq = p.seq;
    if (p.receiveBuffer > 0) r.receiveBuffer = p.receiveBuffer;
    return this.sampleLoss(r, p, now);
  }

  /**
   * The window: how far the sender may run ahead of the slowest receiver.
   * Receivers not heard from for `lagMs` don't hold it (a dead one must not
   * stall the others); undefined when nobody holds it.
   */
  window(now: number, lagMs: number, frameSize: number): WindowView | undefined {
    let holder: ReceiverState | undefined;
    let minBuffer = Infinity;
    for (const r of this.all.values()) {
      if (r.state !== 'active' || now - r.lastHeard > lagMs) continue;
      if (!holder || r.ackSeq < holder.ackSeq) holder = r;
      if (r.receiveBuffer < minBuffer) minBuffer = r.receiveBuffer;
    }
    if (!holder) return undefined;
    const size = Math.max(MIN_WINDOW, Math.min(MAX_WINDOW, Math.floor((minBuffer * WINDOW_SHARE) / truesize(frameSize))));
    return { size, left: holder.ackSeq, holder };
  }

  /** The highest datagram loss among active receivers (0 with none). */
  worstActiveLoss(): number {
    let worst = 0;
    for (const r of this.all.values()) if (r.state === 'active' && r.loss > worst) worst = r.loss;
    return worst;
  }

  counts(): { active: number; done: number; dropped: number; worstLoss: number } {
    const c = { active: 0, done: 0, dropped: 0, worstLoss: 0 };
    for (const r of this.all.values()) {
      c[r.state]++;
      c.worstLoss = Math.max(c.worstLoss, r.loss);
    }
    return c;
  }

  /**
   * Loss over at least LOSS_SAMPLE packets, each sample judged once (one
   * loss event must not count again in every STATUS after it).
   */
  private sampleLoss(r: ReceiverState, p: StatusPacket, now: number): boolean {
    if (r.sampleSeq < 0 || p.received < r.sampleReceived) {
      r.sampleSeq = p.seq;
      r.sampleReceived = p.received;
      return false;
    }
    const expected = p.seq - r.sampleSeq;
    if (expected < LOSS_SAMPLE) return false;
    r.loss = Math.max(0, 1 - (p.received - r.sampleReceived) / expected);
    r.sampleSeq = p.seq;
    r.sampleReceived = p.received;
    if (r.baseline.report(r.loss, expected)) {
      r.congestedSince ??= now;
      return true;
    }
    r.congestedSince = undefined;
    return false;
  }
}
