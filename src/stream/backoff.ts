/**
 * Retry delays for the resumable fetch: exponential growth from `baseMs`,
 * capped at `capMs`, with "equal jitter" (half fixed, half random) so that
 * many clients cut off by the same server restart do not come back in
 * lockstep, yet no retry is ever immediate.
 */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter (default 250 ms). */
  baseMs?: number;
  /** Upper bound of any delay (default 10 s). */
  capMs?: number;
}

/** The delay before retry number `attempt` (0 for the first retry); `random` is in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 250;
  const cap = options.capMs ?? 10_000;
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
