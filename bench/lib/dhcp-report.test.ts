import { describe, expect, it } from 'vitest';
import type { DhcpLoadResult } from './dhcp-load.ts';
import { cpuPerExchange, dhcpCpuRatio, dhcpRatio, medianRate, renderTenthsTable, type DhcpResults } from './dhcp-report.ts';

function load(exchangesPerSecond: number, tenths: number[] = []): DhcpLoadResult {
  return {
    exchanges: 1000, completed: 1000, failed: 0, retries: 0, naks: 0, stray: 0, duplicateAddresses: 0,
    seconds: 1000 / exchangesPerSecond, exchangesPerSecond, tenths, generatorCpuSeconds: 0.1,
    latencyMs: { p50: 1, p99: 2, max: 3 },
  };
}

const results: DhcpResults = {
  subject: 'trowel',
  peers: ['dnsmasq'],
  runs: {
    trowel: [
      { rep: 1, result: load(300, Array(10).fill(300)), serverCpuSeconds: 2 },
      { rep: 2, result: load(100, Array(10).fill(100)), serverCpuSeconds: 4 },
      { rep: 3, result: load(200, Array(10).fill(200)), serverCpuSeconds: 3 },
    ],
    dnsmasq: [{ rep: 1, result: load(150), serverCpuSeconds: 6 }, { rep: 2, error: 'exited' }],
  },
};

describe('dhcp report', () => {
  it('medianRate ignores failed runs', () => {
    expect(medianRate(results.runs.trowel!)).toBe(200);
    expect(medianRate(results.runs.dnsmasq!)).toBe(150);
  });

  it('dhcpRatio is trowel exchanges/s over the peer', () => {
    expect(dhcpRatio(results, 'dnsmasq')).toBeCloseTo(200 / 150, 10);
  });

  it('cpuPerExchange and dhcpCpuRatio use server CPU µs per completed exchange', () => {
    expect(cpuPerExchange(results.runs.trowel!)).toBe(3000);
    expect(dhcpCpuRatio(results, 'dnsmasq')).toBe(2);
  });

  it('renderTenthsTable labels columns with the leases held and prints the median curve', () => {
    const table = renderTenthsTable(results, 500, 1000);
    expect(table.split('\n')[0]).toBe('| server (leases held →) | ≤600 | ≤700 | ≤800 | ≤900 | ≤1000 | ≤1100 | ≤1200 | ≤1300 | ≤1400 | ≤1500 |');
    expect(table).toContain('| trowel                 |  200 |  200 |');
    expect(table).toContain('| dnsmasq                |    - |');
  });
});
