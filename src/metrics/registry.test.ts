import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './registry.ts';

describe('MetricsRegistry.total', () => {
  it('sums the label sets that include the match, and every one without a match', () => {
    const metrics = new MetricsRegistry();
    const packets = metrics.counter('packets_total', 'packets');
    packets.inc({ direction: 'in', type: 'DISCOVER' }, 3);
    packets.inc({ direction: 'in', type: 'REQUEST' });
    packets.inc({ direction: 'out', type: 'OFFER' }, 2);
    expect(metrics.total('packets_total')).toBe(6);
    expect(metrics.total('packets_total', { direction: 'in' })).toBe(4);
    expect(metrics.total('packets_total', { direction: 'out', type: 'OFFER' })).toBe(2);
    expect(metrics.total('packets_total', { direction: 'sideways' })).toBe(0);
  });

  it('reads gauges and answers 0 for a metric nobody registered', () => {
    const metrics = new MetricsRegistry();
    const active = metrics.gauge('active', 'active');
    active.add(2);
    active.add(-1);
    expect(metrics.total('active')).toBe(1);
    expect(metrics.total('never_registered')).toBe(0);
  });

  it('keeps the exposition text unchanged', () => {
    const metrics = new MetricsRegistry();
    metrics.counter('c_total', 'help').inc({ b: '2', a: '1' });
    expect(metrics.render()).toBe('# HELP c_total help\n# TYPE c_total counter\nc_total{a="1",b="2"} 1\n');
  });
});
