import { describe, expect, it } from 'vitest';
import { LossBaseline, RateController, TokenBucket } from './pacing.ts';

describe('TokenBucket', () => {
  it('accrues rate * time and lets that many bytes through', () => {
    const bucket = new TokenBucket(8_000_000, 0, 4, 1000); // 1000 bytes/ms
    bucket.refill(2);
    expect(bucket.take(2000)).toBe(true);
    expect(bucket.take(1)).toBe(false);
    expect(bucket.waitMs(500)).toBe(0.5);
  });

  it('caps credit at burstMs of rate, but never below minBurst', () => {
    const bucket = new TokenBucket(8_000_000, 0, 4, 1000);
    bucket.refill(1000);
    expect(bucket.capacity).toBe(4000);
    expect(bucket.take(4000)).toBe(true);
    expect(bucket.take(1)).toBe(false);
    expect(new TokenBucket(8000, 0, 4, 1500).capacity).toBe(1500);
  });

  it('paces a long run at the rate: 1 s of 1 ms refills lets 1 MB through', () => {
    const bucket = new TokenBucket(8_000_000, 0, 4, 1000);
    let sent = 0;
    for (let t = 1; t <= 1000; t++) {
      bucket.refill(t);
      while (bucket.take(1500)) sent += 1500;
    }
    expect(sent).toBeGreaterThan(995_000);
    expect(sent).toBeLessThanOrEqual(1_000_000);
  });

  it('give returns unused credit and setRate changes the refill', () => {
    const bucket = new TokenBucket(8_000_000, 0, 4, 1000);
    bucket.refill(1);
    expect(bucket.take(1000)).toBe(true);
    bucket.give(400);
    expect(bucket.take(400)).toBe(true);
    bucket.setRate(16_000_000);
    bucket.refill(2);
    expect(bucket.take(2000)).toBe(true);
  });
});

describe('RateController', () => {
  it('decreases multiplicatively, once per hold period', () => {
    const aimd = new RateController({ capBitsPerSecond: 1000, holdMs: 100 });
    expect(aimd.congestion(0)).toBe(true);
    expect(aimd.rate).toBe(750);
    expect(aimd.congestion(50)).toBe(false);
    expect(aimd.congestion(100)).toBe(true);
    expect(aimd.rate).toBe(562.5);
  });

  it('never goes below the floor', () => {
    const aimd = new RateController({ capBitsPerSecond: 1000, floorBitsPerSecond: 500, holdMs: 0 });
    for (let t = 0; t < 10; t++) aimd.congestion(t);
    expect(aimd.rate).toBe(500);
    expect(aimd.atFloor).toBe(true);
  });

  it('climbs back additively to the cap, not during the hold', () => {
    const aimd = new RateController({ capBitsPerSecond: 1000, increasePerSecond: 0.5, holdMs: 100 });
    aimd.tick(0);
    aimd.congestion(0);
    expect(aimd.tick(50)).toBe(750);
    expect(aimd.tick(150)).toBe(800); // 50 ms past the hold at 500/s... counted from the last tick
    expect(aimd.tick(1150)).toBe(1000);
  });
});

describe('LossBaseline', () => {
  it('treats steady random loss as the baseline, not congestion', () => {
    const baseline = new LossBaseline(40, 0.02);
    const signals = [0.05, 0.049, 0.052, 0.05, 0.051, 0.048, 0.053, 0.05].map((l) => baseline.report(l));
    expect(signals.every((s) => !s)).toBe(true);
  });

  it('signals loss well above the baseline', () => {
    const baseline = new LossBaseline(40, 0.02);
    for (const l of [0.01, 0.012, 0.011, 0.01, 0.01]) baseline.report(l);
    expect(baseline.report(0.2)).toBe(true);
  });

  it('takes the first report as the baseline, and signals a clear rise after it', () => {
    const baseline = new LossBaseline(40, 0.02);
    expect(baseline.report(0.3)).toBe(false);
    const other = new LossBaseline(40, 0.02);
    expect(other.report(0.05)).toBe(false);
    expect(other.report(0.3)).toBe(true);
  });

  it('does not read the noise of heavy random loss as congestion (25% loss of fragmented datagrams)', () => {
    const baseline = new LossBaseline(40, 0.02);
    let state = 7;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let signals = 0;
    for (let i = 0; i < 200; i++) {
      let lost = 0;
      for (let p = 0; p < 2000; p++) if (random() < 0.25) lost++;
      if (baseline.report(lost / 2000, 2000)) signals++;
    }
    expect(signals).toBeLessThanOrEqual(2);
    expect(baseline.report(0.4, 2000)).toBe(true);
  });
});
