import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatProgress, ProgressMeter } from './progress.ts';

describe('ProgressMeter', () => {
  it('computes the rate over the window and the time left from it', () => {
    const clock = { t: 1_000 };
    const meter = new ProgressMeter({ total: 10_000, now: () => clock.t, windowMs: 2_000 });
    expect(meter.snapshot()).toEqual({ bytes: 0, total: 10_000, bytesPerSecond: 0, etaSeconds: undefined, elapsedMs: 0 });
    clock.t = 2_000;
    expect(meter.update(1_000)).toEqual({ bytes: 1_000, total: 10_000, bytesPerSecond: 1_000, etaSeconds: 9, elapsedMs: 1_000 });
    clock.t = 3_000;
    meter.update(2_000);
    clock.t = 4_000;
    // The link speeds up: the window [2000, 4000] sees 4000 bytes in 2 s, not 5000 bytes in 3 s.
    expect(meter.update(5_000)).toMatchObject({ bytesPerSecond: 2_000, etaSeconds: 2.5, elapsedMs: 3_000 });
  });

  it('reports an ETA of 0 when done and none without a total', () => {
    const clock = { t: 0 };
    const done = new ProgressMeter({ total: 10, now: () => clock.t });
    clock.t = 10;
    expect(done.update(10).etaSeconds).toBe(0);
    const open = new ProgressMeter({ now: () => clock.t });
    clock.t = 20;
    expect(open.update(10)).toMatchObject({ total: undefined, etaSeconds: undefined });
  });

  it('learns a total given later', () => {
    const clock = { t: 0 };
    const meter = new ProgressMeter({ now: () => clock.t });
    clock.t = 1_000;
    expect(meter.update(100, 300)).toMatchObject({ total: 300, etaSeconds: 2 });
  });
});

describe('formatting', () => {
  it('formatBytes picks binary units', () => {
    expect([0, 512, 1536, 12.3 * 1024 * 1024, 2 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '512 B', '1.50 KiB', '12.3 MiB', '2.00 GiB']);
  });

  it('formatDuration rounds up and shows hours only when needed', () => {
    expect([undefined, 0, 6.2, 723, 3723, Infinity].map(formatDuration)).toEqual(['?', '0:00', '0:07', '12:03', '1:02:03', '?']);
  });

  it('formatProgress makes one line', () => {
    const line = formatProgress('org.example.Desktop x86_64 20261122T023710Z', {
      bytes: 12.3 * 1024 * 1024, total: 30 * 1024 * 1024, bytesPerSecond: 8.2 * 1024 * 1024, etaSeconds: 2.2, elapsedMs: 1_500,
    });
    expect(line).toBe('org.example.Desktop x86_64 20261122T023710Z  12.3 MiB / 30.0 MiB  41%  8.20 MiB/s  ETA 0:03');
    expect(formatProgress('x', { bytes: 10, total: undefined, bytesPerSecond: 0, etaSeconds: undefined, elapsedMs: 0 })).toBe('x  10 B  0 B/s  ETA ?');
  });
});
