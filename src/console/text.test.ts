import { describe, expect, it } from 'vitest';
import { columns, fit, gauge, percent, sparkline, wrap } from './text.ts';

describe('text helpers', () => {
  it('fits and cuts with a mark, in ASCII when asked', () => {
    expect(fit('abcdef', 10)).toBe('abcdef');
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('abcdef', 4, { ascii: true })).toBe('abc~');
  });

  it('lines up columns and cuts the last one to the width', () => {
    expect(columns([['A', 'BB', 'C'], ['aaa', 'b', 'a long last cell']], 16)).toEqual(['A    BB  C', 'aaa  b   a long…']);
  });

  it('draws gauges and sparklines from fractions and rates', () => {
    expect(gauge(0.5, 12, { ascii: true })).toBe('[#####-----]');
    expect(gauge(1, 6)).toBe('[████]');
    expect(gauge(Number.NaN, 6, { ascii: true })).toBe('[----]');
    expect(sparkline([0, 1, 2, 4], 10)).toBe('▁▃▅█');
    expect(sparkline([0, 1, 2, 4], 3, { ascii: true })).toBe('-+@');
    expect(sparkline([0, 0], 5)).toBe('▁▁');
    expect(percent(0.999)).toBe('99%');
  });

  it('wraps at spaces and cuts words longer than a line', () => {
    expect(wrap('one two three', 7)).toEqual(['one two', 'three']);
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });
});
