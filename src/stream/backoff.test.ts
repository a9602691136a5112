import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles from the base and stays within [ceiling/2, ceiling]', () => {
    const low = [0, 1, 2, 3].map((a) => backoffDelay(a, { baseMs: 100, capMs: 10_000 }, () => 0));
    const high = [0, 1, 2, 3].map((a) => backoffDelay(a, { baseMs: 100, capMs: 10_000 }, () => 0.999999));
    expect(low).toEqual([50, 100, 200, 400]);
    expect(high).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds the cap, even for huge attempt numbers', () => {
    expect(backoffDelay(8, { baseMs: 100, capMs: 1_000 }, () => 0.999999)).toBe(1_000);
    expect(backoffDelay(5_000, { baseMs: 100, capMs: 1_000 }, () => 0)).toBe(500);
  });

  it('is never zero, so a retry never hammers the server at once', () => {
    expect(backoffDelay(0, {}, () => 0)).toBe(125);
  });
});
