/**
 * Which parity to send next, pure. Receivers report per FEC group how many
 * symbols they still lack; since any parity row repairs any missing block
 * of its group, the sender owes each group the MOST any receiver lacks, not
 * the sum: 100 receivers each missing a different block of a group cost one
 * parity packet.
 *
 * A report is stale for a group when the receiver had not yet seen the last
 * symbol sent for that group (its `seq` is below it): those repairs are
 * still in flight, and counting the report again would double them. Every
 * report carries the highest sequence number the receiver has seen, so
 * freshness needs no clocks.
 *
 * A group only one receiver asked for is repaired by unicast to it: the
 * others would pay CPU for packets they don't need (one lossy receiver
 * among many is the common case). Once a second receiver asks within the
 * same round, or parity goes out before anyone asks, the group's repairs
 * are multicast. A unicast repair is the missing data block itself when
 * the receiver said which blocks it lacks (parity costs the sender a pass
 * over the whole group per symbol, a block costs nothing). A unicast repair travels on another socket than the
 * multicast, so a receiver may read up to a batch of later multicast
 * packets (and report) before it: its reports count as fresh for that
 * group only past a margin of sequence numbers, or after a delay (once
 * the data is out, little else is multicast).
 */

/** Multicast packets a receiver may read before a unicast repair sent ahead of them (libuv reads 32 per socket per turn). */
export const UNICAST_SEQ_MARGIN = 64;
/**
 * Once the data is out (callers pass no clock before), after this long a
 * unicast repair not acknowledged by sequence number is taken as arrived or lost.
 */
export const UNICAST_GUARD_MS = 100;
export interface RepairSymbol {
  group: number;
  /** Symbol number in the group's repair order (parity rows first, then data again; see sender). */
  symbol: number;
  proactive: boolean;
  /** The one receiver (its slot) that asked for it, or undefined: multicast. */
  to: number | undefined;
  /** Set for a data block sent again instead of parity: its index in the group (`symbol` is then not used up). */
  block: number | undefined;
}

/** A group's asker: nobody yet this round, or several (multicast); receivers are slots 0 and up. */
const NOBODY = -1;
const MANY = -2;

export class RepairPlanner {
  private readonly pending: Uint16Array;
  private readonly proactiveLeft: Uint16Array;
  private readonly lastSeq: Uint32Array;
  private readonly nextSymbol: Uint32Array;
  private readonly queued: Uint8Array;
  private readonly asker: Int32Array;
  /** When the last unicast repair of a group left (ms), 0 when its last repair was multicast. */
  private readonly unicastAt: Float64Array;
  /** The sole asker's missing blocks of each group, as told in its last report (bit i: block i). */
  private readonly maskLow: Uint32Array;
  private readonly maskHigh: Uint32Array;
  private queue: number[] = [];
  private head = 0;
  /** Symbols owed in total (for the end-of-data decision and stats). */
  owed = 0;

  constructor(groupCount: number) {
    this.pending = new Uint16Array(groupCount);
    this.proactiveLeft = new Uint16Array(groupCount);
    this.lastSeq = new Uint32Array(groupCount);
    this.nextSymbol = new Uint32Array(groupCount);
    this.queued = new Uint8Array(groupCount);
    this.asker = new Int32Array(groupCount).fill(NOBODY);
    this.unicastAt = new Float64Array(groupCount);
    this.maskLow = new Uint32Array(groupCount);
    this.maskHigh = new Uint32Array(groupCount);
  }

  /**
   * Receiver `who` (a slot, 0 and up), having seen packets up to `seq`,
   * lacks `missing` symbols of `group`, and these data blocks (masks, 0 when
   * unknown); `now` (ms), or 0 for no time guard.
   */
  need(group: number, missing: number, seq: number, who: number, now = 0, maskLow = 0, maskHigh = 0): void {
    if (group >= this.pending.length || missing <= 0) return;
    if (seq < this.lastSeq[group]! && !(now > 0 && this.unicastAt[group]! > 0 && now - this.unicastAt[group]! >= UNICAST_GUARD_MS)) return;
    const before = this.pending[group]!;
    const asker = this.asker[group]!;
    if (asker === NOBODY) this.asker[group] = who;
    else if (asker !== who) this.asker[group] = MANY;
    // Its report is the truth about its blocks; with several askers, parity serves them all.
    const sole = this.asker[group] === who;
    this.maskLow[group] = sole ? maskLow : 0;
    this.maskHigh[group] = sole ? maskHigh : 0;
    if (missing <= before) return;
    this.pending[group] = Math.min(missing, 0xffff);
    this.owed += this.pending[group]! - before;
    this.enqueue(group);
  }

  /** Parity sent with a group before anyone asks. */
  proactive(group: number, count: number): void {
    if (count <= 0) return;
    this.pending[group] = this.pending[group]! + count;
    this.proactiveLeft[group] = this.proactiveLeft[group]! + count;
    this.asker[group] = MANY;
    this.maskLow[group] = 0;
    this.maskHigh[group] = 0;
    this.owed += count;
    this.enqueue(group);
  }

  get isEmpty(): boolean {
    return this.owed === 0;
  }

  /** The next symbol to send, oldest group first; call {@link sent} with its sequence number. */
  next(): RepairSymbol | undefined {
    while (this.head < this.queue.length) {
      const group = this.queue[this.head]!;
      const pending = this.pending[group]!;
      if (pending === 0) {
        this.dequeue();
        continue;
      }
      this.pending[group] = pending - 1;
      this.owed--;
      const proactive = this.proactiveLeft[group]! > 0;
      if (proactive) this.proactiveLeft[group] = this.proactiveLeft[group]! - 1;
      const asker = this.asker[group]!;
      const block = asker >= 0 ? this.takeMissingBlock(group) : undefined;
      const symbol = this.nextSymbol[group]!;
      if (block === undefined) this.nextSymbol[group] = symbol + 1;
      if (pending === 1) {
        // The round is over: whoever asks next starts a new one.
        this.asker[group] = NOBODY;
        this.maskLow[group] = 0;
        this.maskHigh[group] = 0;
        this.dequeue();
      }
      return { group, symbol, proactive, to: asker >= 0 ? asker : undefined, block };
    }
    return undefined;
  }

  /** The lowest block of the group's mask, cleared from it; undefined when the mask is empty. */
  private takeMissingBlock(group: number): number | undefined {
    const low = this.maskLow[group]!;
    if (low !== 0) {
      const i = 31 - Math.clz32(low & -low);
      this.maskLow[group] = (low & ~(1 << i)) >>> 0;
      return i;
    }
    const high = this.maskHigh[group]!;
    if (high === 0) return undefined;
    const i = 31 - Math.clz32(high & -high);
    this.maskHigh[group] = (high & ~(1 << i)) >>> 0;
    return 32 + i;
  }

  /**
   * The symbol just taken from {@link next} left after multicast sequence
   * number `seq`, by unicast if `unicastAt` (ms) is given; a report then
   * counts as fresh once past `seq + margin` (by default the margin for
   * multicast read ahead of the repair; once the data is out, the sender
   * passes 1: the next END, which goes out well after the repair).
   */
  sent(group: number, seq: number, unicastAt = 0, margin = UNICAST_SEQ_MARGIN): void {
    this.lastSeq[group] = unicastAt > 0 ? seq + margin : seq;
    this.unicastAt[group] = unicastAt;
  }

  private enqueue(group: number): void {
    if (this.queued[group]) return;
    this.queued[group] = 1;
    this.queue.push(group);
  }

  private dequeue(): void {
    this.queued[this.queue[this.head]!] = 0;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
