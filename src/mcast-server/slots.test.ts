import { describe, expect, it } from 'vitest';
import { freeSlot, slotEndpoint } from './slots.ts';

describe('slotEndpoint', () => {
  const pool = { first: '239.255.84.1', count: 3 };

  it('spreads sessions over the groups before it uses the next port', () => {
    expect([0, 1, 2, 3, 4].map((i) => `${slotEndpoint(pool, 9000, i).group}:${slotEndpoint(pool, 9000, i).port}`)).toEqual([
      '239.255.84.1:9000', '239.255.84.2:9000', '239.255.84.3:9000', '239.255.84.1:9001', '239.255.84.2:9001',
    ]);
  });

  it('refuses a slot past the last port', () => {
    expect(() => slotEndpoint({ first: '239.0.0.1', count: 1 }, 65535, 1)).toThrow(RangeError);
  });
});

describe('freeSlot', () => {
  it('takes the lowest slot not in use', () => {
    expect(freeSlot({ first: '239.0.0.1', count: 1 }, 9000, new Set([0, 1, 3]))).toEqual({ index: 2, group: '239.0.0.1', port: 9002 });
    expect(freeSlot({ first: '239.0.0.1', count: 4 }, 9000, new Set())).toEqual({ index: 0, group: '239.0.0.1', port: 9000 });
  });
});
