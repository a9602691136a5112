/**
 * Rate maths, pure (time is passed in): a token bucket that paces packets at
 * the current rate, and the AIMD controller that moves that rate between a
 * floor and the cap from receivers' loss reports.
 */

/** Bytes a packet occupies on an Ethernet wire besides its UDP payload: IPv4 20 + UDP 8 + Ethernet header 14. */
export const WIRE_OVERHEAD = 42;

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Bytes per millisecond. */
  private perMs: number;
  private readonly burstMs: number;
  private readonly minBurst: number;

  /**
   * `burstMs` of credit may pile up while the loop sleeps (timers are coarse:
   * a 1 ms timer often fires after 2-4 ms, and a busy machine runs the
   * process late), but never less than `minBurst` bytes so one full packet
   * always fits. 8 ms at 900 Mbit/s is ~600 frames: within a NIC's default
   * 1000-packet queue.
   */
  constructor(bitsPerSecond: number, now: number, burstMs = 8, minBurst = 65536) {
    this.perMs = bitsPerSecond / 8000;
    this.burstMs = burstMs;
    this.minBurst = minBurst;
    this.tokens = 0;
    this.last = now;
  }

  get capacity(): number {
    return Math.max(this.minBurst, this.perMs * this.burstMs);
  }

  setRate(bitsPerSecond: number): void {
    this.perMs = bitsPerSecond / 8000;
  }

  refill(now: number): void {
    const elapsed = now - this.last;
    this.last = now;
    if (elapsed > 0) this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perMs);
  }

  /** Takes `bytes` if the bucket holds them. */
  take(bytes: number): boolean {
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }

  /** Returns unused credit (a packet smaller than the frame it was budgeted as). */
  give(bytes: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + bytes);
  }

  /** Milliseconds until `bytes` will be available. */
  waitMs(bytes: number): number {
    return this.tokens >= bytes ? 0 : (bytes - this.tokens) / this.perMs;
  }
}

export interface AimdOptions {
  capBitsPerSecond: number;
  /** Lowest rate congestion can push the session to (default cap / 50). */
  floorBitsPerSecond?: number;
  /** Multiplicative decrease (default 0.75). */
  decrease?: number;
  /** Additive increase per second, as a fraction of the cap (default 0.25: floor to cap in ~4 s). */
  increasePerSecond?: number;
  /** At most one decrease per this many ms: reports of one loss event arrive from many receivers (default 150). */
  holdMs?: number;
}

export class RateController {
  rate: number;
  readonly cap: number;
  readonly floor: number;
  private readonly decrease: number;
  private readonly increase: number;
  private readonly holdMs: number;
  private lastDecrease = -Infinity;
  private lastTick: number | undefined;
  decreases = 0;

  constructor(options: AimdOptions) {
    this.cap = options.capBitsPerSecond;
    this.floor = Math.min(this.cap, options.floorBitsPerSecond ?? this.cap / 50);
    this.decrease = options.decrease ?? 0.75;
    this.increase = (options.increasePerSecond ?? 0.25) * this.cap;
    this.holdMs = options.holdMs ?? 150;
    this.rate = this.cap;
  }

  get atFloor(): boolean {
    return this.rate <= this.floor;
  }

  /** A receiver reported congestion; true when the rate went down. */
  congestion(now: number): boolean {
    if (now - this.lastDecrease < this.holdMs) return false;
    this.lastDecrease = now;
    this.rate = Math.max(this.floor, this.rate * this.decrease);
    this.decreases++;
    return true;
  }

  /** Time passes: the rate climbs back toward the cap, except right after a decrease. */
  tick(now: number): number {
    const elapsed = this.lastTick === undefined ? 0 : now - this.lastTick;
    this.lastTick = now;
    if (now - this.lastDecrease >= this.holdMs) this.rate = Math.min(this.cap, this.rate + (this.increase * elapsed) / 1000);
    return this.rate;
  }
}

/**
 * Loss a receiver reports is congestion only beyond what it always loses:
 * random link loss (a bad cable, a lossy Wi-Fi bridge, nftables in the tests)
 * is repaired by FEC and does not go away when the sender slows down, so
 * slowing everyone for it would only hurt. Its baseline is the median of
 * what it reported recently (the least of them would sit below the steady
 * level by the samples' own noise, and at 25% loss every other sample
 * would then read as congestion); congestion is loss above the baseline by
 * `threshold` plus three standard deviations of a sample of that many
 * packets. The first report is its own baseline: nothing has changed yet.
 */
export class LossBaseline {
  private readonly history: number[] = [];
  private readonly window: number;
  private readonly threshold: number;

  constructor(window = 40, threshold = 0.02) {
    this.window = window;
    this.threshold = threshold;
  }

  /** Records a report's loss (0..1) measured over `packets`; true when it signals congestion. */
  report(loss: number, packets = 2000): boolean {
    this.history.push(loss);
    if (this.history.length > this.window) this.history.shift();
    const sorted = this.history.slice().sort((a, b) => a - b);
    const baseline = sorted[(sorted.length - 1) >> 1]!;
    const noise = 3 * Math.sqrt((baseline * (1 - baseline)) / Math.max(1, packets));
    return loss > baseline + this.threshold + noise;
  }
}
