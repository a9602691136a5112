import { describe, expect, it } from 'vitest';
import { asciiChart } from './ascii-chart.ts';

describe('asciiChart', () => {
  it('draws two series with their marks, the shared cells with @, and labels the axis', () => {
    expect(asciiChart([{ values: [0, 5, 10] }, { values: [0, 10, 10] }], 6, 3)).toEqual([
      '10| o@',
      '  | * ',
      ' 0|@  ',
    ]);
  });

  it('keeps the newest points when there are more than columns, and pads on the left when fewer', () => {
    expect(asciiChart([{ values: [9, 9, 9, 9, 1, 2] }], 4, 3)).toEqual(['2| *', ' |* ', '0|  ']);
    expect(asciiChart([{ values: [1] }], 5, 2)).toEqual(['1|  *', '0|   ']);
  });

  it('draws all-zero data on the bottom line with a unit scale, and nothing in no room', () => {
    expect(asciiChart([{ values: [0, 0] }], 4, 2)).toEqual(['1|  ', '0|**']);
    expect(asciiChart([{ values: [1] }], 0, 3)).toEqual([]);
  });

  it('labels fractions with two decimals', () => {
    expect(asciiChart([{ values: [0, 0.256] }], 6, 2)).toEqual(['0.26|*', '   0| ']);
  });
});
