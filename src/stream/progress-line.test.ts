import { describe, expect, it } from 'vitest';
import { createProgressLine } from './progress-line.ts';
import type { ProgressSnapshot } from './progress.ts';

const at = (bytes: number): ProgressSnapshot => ({ bytes, total: 2048, bytesPerSecond: 1024, etaSeconds: (2048 - bytes) / 1024, elapsedMs: 0 });

describe('createProgressLine', () => {
  it('rewrites one terminal line in place, throttled, and ends it on finish', () => {
    const written: string[] = [];
    const clock = { t: 0 };
    const line = createProgressLine({ write: (s: string) => written.push(s), isTTY: true }, { intervalMs: 100, now: () => clock.t });
    line.update('t', at(0));
    clock.t = 50;
    line.update('t', at(512)); // within the interval: skipped
    clock.t = 150;
    line.update('t', at(1024));
    line.finish('t', at(2048));
    expect(written).toEqual([
      '\rt  0 B / 2.00 KiB  0%  1.00 KiB/s  ETA 0:02\x1b[K',
      '\rt  1.00 KiB / 2.00 KiB  50%  1.00 KiB/s  ETA 0:01\x1b[K',
      '\rt  2.00 KiB / 2.00 KiB  100%  1.00 KiB/s  ETA 0:00\x1b[K\n',
    ]);
  });

  it('cuts a terminal line to the width so the carriage return rewrites one row', () => {
    const written: string[] = [];
    createProgressLine({ write: (s: string) => written.push(s), isTTY: true, columns: 10 }).update('label', at(0));
    expect(written).toEqual(['\rlabel  0 \x1b[K']); // 9 characters: the last column stays free
  });

  it('prints plain lines without escapes when not a terminal', () => {
    const written: string[] = [];
    const clock = { t: 0 };
    const line = createProgressLine({ write: (s: string) => written.push(s) }, { now: () => clock.t });
    line.update('t', at(0));
    clock.t = 4_000;
    line.update('t', at(1024)); // default plain interval is 5 s
    clock.t = 5_000;
    line.update('t', at(1536));
    line.finish('t', at(2048));
    expect(written).toEqual([
      't  0 B / 2.00 KiB  0%  1.00 KiB/s  ETA 0:02\n',
      't  1.50 KiB / 2.00 KiB  75%  1.00 KiB/s  ETA 0:01\n',
      't  2.00 KiB / 2.00 KiB  100%  1.00 KiB/s  ETA 0:00\n',
    ]);
  });
});
