/**
 * Transfer progress as data: bytes so far, the rate over a sliding window
 * (recent speed, not the average since the start, so the ETA follows a link
 * that slows down or recovers), and the time left. Pure state with an
 * injectable clock; progress-line.ts renders it, events can carry it as is.
 */
export interface ProgressSnapshot {
  bytes: number;
  /** Bytes expected in all, when known. */
  total: number | undefined;
  /** Over the last `windowMs`; 0 until two samples exist. */
  bytesPerSecond: number;
  /** Seconds left at the current rate; undefined without a total or a rate. */
  etaSeconds: number | undefined;
  elapsedMs: number;
}

export interface ProgressMeterOptions {
  total?: number;
  /** Milliseconds clock (default performance.now). */
  now?: () => number;
  /** Width of the rate window (default 5 s). */
  windowMs?: number;
}

export class ProgressMeter {
  #total: number | undefined;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #started: number;
  #samples: { t: number; bytes: number }[];

  constructor(options: ProgressMeterOptions = {}) {
    this.#total = options.total;
    this.#now = options.now ?? (() => performance.now());
    this.#windowMs = options.windowMs ?? 5_000;
    this.#started = this.#now();
    this.#samples = [{ t: this.#started, bytes: 0 }];
  }

  /** Records that `bytes` have been transferred in all (not an increment). */
  update(bytes: number, total: number | undefined = this.#total): ProgressSnapshot {
    this.#total = total;
    const t = this.#now();
    this.#samples.push({ t, bytes });
    // Keep one sample at or before the window's start, so the window is always full width once it can be.
    while (this.#samples.length > 2 && this.#samples[1]!.t <= t - this.#windowMs) this.#samples.shift();
    return this.snapshot();
  }

  snapshot(): ProgressSnapshot {
    const last = this.#samples.at(-1)!;
    const first = this.#samples[0]!;
    const span = last.t - first.t;
    const bytesPerSecond = span > 0 ? ((last.bytes - first.bytes) * 1000) / span : 0;
    const left = this.#total === undefined ? undefined : Math.max(0, this.#total - last.bytes);
    const etaSeconds = left === undefined ? undefined : left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : undefined;
    return { bytes: last.bytes, total: this.#total, bytesPerSecond, etaSeconds, elapsedMs: last.t - this.#started };
  }
}

/** "512 B", "1.5 KiB", "12.3 MiB", "2.00 GiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${n} B`;
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** "0:07", "12:03", "1:02:03"; "?" when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  const s = Math.ceil(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** One line: "<label>  12.3 MiB / 30.0 MiB  41%  8.20 MiB/s  ETA 0:02". */
export function formatProgress(label: string, p: ProgressSnapshot): string {
  const amount = p.total === undefined ? formatBytes(p.bytes) : `${formatBytes(p.bytes)} / ${formatBytes(p.total)}`;
  const percent = p.total ? `  ${Math.floor((p.bytes * 100) / p.total)}%` : '';
  return `${label}  ${amount}${percent}  ${formatBytes(Math.round(p.bytesPerSecond))}/s  ETA ${formatDuration(p.etaSeconds)}`;
}
