import { describe, expect, it } from 'vitest';
import { lossCountsFromJson } from './loss.ts';

describe('lossCountsFromJson', () => {
  it('lossCountsFromJson takes arrived minus survived as dropped', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.9' } },
        { counter: { family: 'inet', name: 'arrived', table: 'bench_loss_count', packets: 2049, bytes: 1 } },
        { counter: { family: 'inet', name: 'survived', table: 'bench_loss_count', packets: 2028, bytes: 1 } },
      ],
    });
    expect(lossCountsFromJson(json)).toEqual({ arrived: 2049, dropped: 21 });
  });

  it('lossCountsFromJson refuses output without the counters', () => {
    expect(() => lossCountsFromJson('{"nftables":[{"metainfo":{}}]}')).toThrow(/arrived/);
  });
});
