/**
 * The arithmetic of a benchmark report: medians of repetitions, speed
 * ratios between two servers, and the number formats used in the tables.
 * Pure functions, so the unit test can pin every value.
 */

/** Median of the values (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('Cannot take a median: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * How many times faster `subject` is than `peer`, from the seconds each
 * took for the same work: > 1 means the subject is faster.
 */
export function speedRatioFromSeconds(subjectSeconds: number, peerSeconds: number): number {
  if (!(subjectSeconds > 0) || !(peerSeconds > 0)) throw new RangeError(`Cannot compare ${subjectSeconds} s with ${peerSeconds} s: both must be positive`);
  return peerSeconds / subjectSeconds;
}

/** The same ratio from rates (exchanges/s, MiB/s): > 1 means the subject is faster. */
export function speedRatioFromRates(subjectRate: number, peerRate: number): number {
  if (!(subjectRate > 0) || !(peerRate > 0)) throw new RangeError(`Cannot compare rates ${subjectRate} and ${peerRate}: both must be positive`);
  return subjectRate / peerRate;
}

/** "1.23×", or "n/a" when a ratio could not be measured. */
export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? 'n/a' : `${ratio.toFixed(2)}×`;
}

/** Seconds with three significant decimals below 10 s, two above ("0.412", "12.35"). */
export function formatSeconds(seconds: number): string {
  return seconds < 10 ? seconds.toFixed(3) : seconds.toFixed(2);
}

export const MiB = 1024 * 1024;

/** Throughput in MiB/s: one decimal, more below 10 and 1 MiB/s so lossy runs don't all read "0.0". */
export function formatMiBps(bytes: number, seconds: number): string {
  const rate = bytes / MiB / seconds;
  return rate.toFixed(rate < 1 ? 3 : rate < 10 ? 2 : 1);
}

/** A rate with no decimals and thin grouping ("12 345"), for exchanges/s. */
export function formatRate(rate: number): string {
  return Math.round(rate).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}
