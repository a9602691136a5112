import { describe, expect, it } from 'vitest';
import { summarizeLoad } from './load-sampler.ts';

describe('summarizeLoad', () => {
  it('summarizeLoad gives min, mean and max rounded to two decimals', () => {
    expect(summarizeLoad([1, 2.5, 4.004])).toEqual({ min: 1, mean: 2.5, max: 4, samples: 3 });
  });

  it('summarizeLoad refuses no samples', () => {
    expect(() => summarizeLoad([])).toThrow(RangeError);
  });
});
