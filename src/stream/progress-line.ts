/**
 * Renders progress on stderr: on a terminal one line rewritten in place
 * (carriage return + erase to end of line, throttled so a fast link does not
 * flood the terminal), elsewhere (journald, CI, a pipe) a plain line every
 * few seconds. The last state is always printed, as a line of its own.
 */
import { formatProgress, type ProgressSnapshot } from './progress.ts';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Terminal width; lines are cut to fit so the carriage return rewrites a single row. */
  columns?: number;
}

export interface ProgressLine {
  update(label: string, progress: ProgressSnapshot): void;
  /** Prints the final state, ending the line. */
  finish(label: string, progress: ProgressSnapshot): void;
}

export function createProgressLine(out: ProgressOutput, options: { intervalMs?: number; now?: () => number } = {}): ProgressLine {
  const tty = out.isTTY === true;
  const interval = options.intervalMs ?? (tty ? 200 : 5_000);
  const now = options.now ?? (() => performance.now());
  let last = -Infinity;
  const fit = (line: string) => (tty && out.columns && line.length >= out.columns ? line.slice(0, out.columns - 1) : line);
  const render = (label: string, progress: ProgressSnapshot, final: boolean) => {
    const line = fit(formatProgress(label, progress));
    out.write(tty ? `\r${line}\x1b[K${final ? '\n' : ''}` : `${line}\n`);
  };
  return {
    update(label, progress) {
      const t = now();
      if (t - last < interval) return;
      last = t;
      render(label, progress, false);
    },
    finish(label, progress) {
      render(label, progress, true);
    },
  };
}
