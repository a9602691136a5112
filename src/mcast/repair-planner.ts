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
 */
export interface RepairSymbol {
  group: number;
  /** Symbol number in the group's repair order (parity rows first, then data again; see sender). */
  symbol: number;
  proactive: boolean;
}

export class RepairPlanner {
  private readonly pending: Uint16Array;
  private readonly proactiveLeft: Uint16Array;
  private readonly lastSeq: Uint32Array;
  private readonly nextSymbol: Uint32Array;
  private readonly queued: Uint8Array;
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
  }

  /** A receiver that has seen packets up to `seq` lacks `missing` symbols of `group`. */
  need(group: number, missing: number, seq: number): void {
    if (group >= this.pending.length || missing <= 0) return;
    if (seq < this.lastSeq[group]!) return;
    const before = this.pending[group]!;
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
      const symbol = this.nextSymbol[group]!;
      this.nextSymbol[group] = symbol + 1;
      if (pending === 1) this.dequeue();
      return { group, symbol, proactive };
    }
    return undefined;
  }

  /** The symbol just taken from {@link next} left with sequence number `seq`. */
  sent(group: number, seq: number): void {
    this.lastSeq[group] = seq;
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
