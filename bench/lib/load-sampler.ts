/**
 * Samples the 1-minute load average while a benchmark runs, so a report can
 * say how busy the machine was during the measurements, not only at start.
 */
import { loadavg } from 'node:os';

export interface LoadSummary {
  min: number;
  mean: number;
  max: number;
  samples: number;
}

export function sampleLoad(intervalMs = 5000): { stop(): LoadSummary } {
  const samples = [loadavg()[0]!];
  const timer = setInterval(() => samples.push(loadavg()[0]!), intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      samples.push(loadavg()[0]!);
      return summarizeLoad(samples);
    },
  };
}

export function summarizeLoad(samples: readonly number[]): LoadSummary {
  if (samples.length === 0) throw new RangeError('Cannot summarize load: no samples');
  const round = (n: number) => Number(n.toFixed(2));
  return {
    min: round(Math.min(...samples)),
    mean: round(samples.reduce((a, b) => a + b, 0) / samples.length),
    max: round(Math.max(...samples)),
    samples: samples.length,
  };
}
