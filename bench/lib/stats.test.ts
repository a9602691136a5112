import { describe, expect, it } from 'vitest';
import { formatMiBps, formatRate, formatRatio, formatSeconds, median, speedRatioFromRates, speedRatioFromSeconds } from './stats.ts';

describe('median', () => {
  it('median picks the middle of an odd count whatever the order', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([3.5])).toBe(3.5);
  });

  it('median averages the middle two of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('median does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('median refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('speed ratios', () => {
  it('speedRatioFromSeconds is above 1 when the subject took less time', () => {
    expect(speedRatioFromSeconds(2, 3)).toBe(1.5);
    expect(speedRatioFromSeconds(4, 2)).toBe(0.5);
  });

  it('speedRatioFromRates is above 1 when the subject has the higher rate', () => {
    expect(speedRatioFromRates(3000, 2000)).toBe(1.5);
  });

  it('ratios refuse zero or negative inputs', () => {
    expect(() => speedRatioFromSeconds(0, 1)).toThrow(RangeError);
    expect(() => speedRatioFromRates(1, -1)).toThrow(RangeError);
  });
});

describe('formats', () => {
  it('formatRatio prints two decimals and a times sign, n/a when missing', () => {
    expect(formatRatio(1.2345)).toBe('1.23×');
    expect(formatRatio(0.5)).toBe('0.50×');
    expect(formatRatio(undefined)).toBe('n/a');
    expect(formatRatio(Number.NaN)).toBe('n/a');
  });

  it('formatSeconds keeps three decimals below ten seconds and two above', () => {
    expect(formatSeconds(0.41234)).toBe('0.412');
    expect(formatSeconds(12.345678)).toBe('12.35');
  });

  it('formatMiBps divides bytes by 2^20 per second, with more decimals for slow rates', () => {
    expect(formatMiBps(64 * 1024 * 1024, 2)).toBe('32.0');
    expect(formatMiBps(5 * 1024 * 1024, 2)).toBe('2.50');
    expect(formatMiBps(1024 * 1024, 8)).toBe('0.125');
  });

  it('formatRate groups thousands with a space', () => {
    expect(formatRate(1234567.4)).toBe('1 234 567');
    expect(formatRate(999.6)).toBe('1 000');
    expect(formatRate(42)).toBe('42');
  });
});
