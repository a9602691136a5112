import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDhcpServer, type DhcpServer } from '../../src/dhcp/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { MachineStore, openDatabase, type Database } from '../../src/store/index.ts';
import { discoverPacket, macForIndex, runDhcpLoad, selectingRequestPacket, tenths } from './dhcp-load.ts';

describe('dhcp load generator packets', () => {
  it('macForIndex makes locally administered MACs from a 40-bit index', () => {
    expect(macForIndex(0).toString('hex')).toBe('020000000000');
    expect(macForIndex(0x0102030405).toString('hex')).toBe('020102030405');
    expect(() => macForIndex(2 ** 40)).toThrow(RangeError);
  });

  it('discoverPacket sets the broadcast flag, chaddr and options 53, 61, 55', () => {
    const p = discoverPacket(macForIndex(0x0a0b0c0d0e), 0x11223344);
    expect(p.subarray(0, 12).toString('hex')).toBe('01010600' + '11223344' + '0000' + '8000');
    expect(p.subarray(28, 44).toString('hex')).toBe('020a0b0c0d0e' + '00'.repeat(10));
    expect(p.subarray(236, 240).toString('hex')).toBe('63825363');
    expect(p.subarray(240, 265).toString('hex')).toBe('350101' + '3d0701020a0b0c0d0e' + '370a0103060c0f1c33363a3b' + 'ff');
  });

  it('selectingRequestPacket carries the offered address and the server identifier', () => {
    const p = selectingRequestPacket(macForIndex(1), 7, '10.82.1.5', Buffer.from([10, 82, 0, 1]));
    expect(p.subarray(240, 277).toString('hex')).toBe('350103' + '3d07010200000000' + '01' + '32040a520105' + '36040a520001' + '370a0103060c0f1c33363a3b' + 'ff');
  });
});

describe('tenths', () => {
  it('tenths gives the rate of each tenth of the completions', () => {
    // 20 completions: the first ten 10 ms apart (100/s), the last ten 100 ms apart (10/s).
    const at = [...Array.from({ length: 10 }, (_, i) => 10 * (i + 1)), ...Array.from({ length: 10 }, (_, i) => 100 + 100 * (i + 1))];
    const rates = tenths(at, 0);
    expect(rates).toHaveLength(10);
    expect(rates.slice(0, 5).map((r) => Math.round(r))).toEqual([100, 100, 100, 100, 100]);
    expect(rates.slice(5).map((r) => Math.round(r))).toEqual([10, 10, 10, 10, 10]);
  });

  it('tenths is empty for fewer than ten completions', () => {
    expect(tenths([1, 2, 3], 0)).toEqual([]);
  });
});

describe('runDhcpLoad against trowel on loopback', () => {
  let db: Database;
  let server: DhcpServer;

  beforeAll(async () => {
    db = openDatabase(':memory:');
    server = await startDhcpServer({
      config: {
        mode: 'authoritative', range: { first: '10.82.1.0', last: '10.82.1.199' }, netmask: '255.255.0.0',
        leaseTimeSeconds: 3600, dns: [], reservations: [], port: 0, proxyPort: 0,
      },
      boot: { serverAddress: '127.0.0.1', httpPort: 8080 },
      db,
      machines: new MachineStore(db),
      metrics: new MetricsRegistry(),
      log: silentLogger,
      bindAddress: '127.0.0.1',
    });
  });

  afterAll(async () => {
    await server?.close();
    db?.close();
  });

  it('runDhcpLoad completes every exchange with a distinct address per MAC', async () => {
    const result = await runDhcpLoad({
      target: '127.0.0.1', serverPort: server.ports[0]!, bindAddress: '127.0.0.1', clientPort: 0,
      exchanges: 150, warmup: 20, window: 8, timeoutMs: 1000, maxAttempts: 3, macBase: 0,
    });
    expect(result).toMatchObject({ exchanges: 150, completed: 150, failed: 0, naks: 0, duplicateAddresses: 0 });
    expect(result.exchangesPerSecond).toBeGreaterThan(0);
    expect(result.latencyMs.p50).toBeLessThanOrEqual(result.latencyMs.max);
    expect(result.tenths).toHaveLength(10);
    const bound = db.prepare("SELECT count(*) AS n FROM leases WHERE state = 'bound'").get() as { n: number };
    expect(bound.n).toBe(170);
  });

  it('runDhcpLoad counts exchanges as failed when the pool runs dry', async () => {
    // 30 addresses are left of 200; 40 new MACs: 10 get no OFFER and time out.
    const result = await runDhcpLoad({
      target: '127.0.0.1', serverPort: server.ports[0]!, bindAddress: '127.0.0.1', clientPort: 0,
      exchanges: 40, warmup: 0, window: 8, timeoutMs: 50, maxAttempts: 2, macBase: 1000,
    });
    expect(result.completed).toBe(30);
    expect(result.failed).toBe(10);
    expect(result.retries).toBeGreaterThanOrEqual(10);
  });
});
