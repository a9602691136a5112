import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { loadFixture } from '../../test/helpers/dhcp-fixtures.ts';
import { BOOT, dhcpConfig } from '../../test/helpers/dhcp-requests.ts';
import type { DhcpConfig } from '../config/index.ts';
import { createLogger, type LogRecord } from '../log/logger.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { MachineStore, openDatabase } from '../store/index.ts';
import { parseDhcpPacket } from './codec.ts';
import { startDhcpServer, type DhcpServer } from './server.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(config: Partial<DhcpConfig> = {}) {
  const db = openDatabase(':memory:');
  const machines = new MachineStore(db);
  const metrics = new MetricsRegistry();
  const records: LogRecord[] = [];
  const server = await startDhcpServer({
    config: dhcpConfig({ port: 0, proxyPort: 0, ...config }), boot: BOOT, db, machines, metrics,
    log: createLogger('dhcp', (r) => records.push(r), 0), bindAddress: '127.0.0.1',
  });
  cleanups.push(() => server.close());
  return { server, machines, metrics, records };
}

async function client(): Promise<{ exchange(bytes: Buffer, port: number, ms?: number): Promise<Buffer | undefined>; socket: dgram.Socket }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return {
    socket,
    exchange: (bytes, port, ms = 2000) => new Promise((resolve) => {
      const timer = setTimeout(() => { socket.off('message', on); resolve(undefined); }, ms);
      const on = (m: Buffer) => { clearTimeout(timer); socket.off('message', on); resolve(m); };
      socket.on('message', on);
      socket.send(bytes, port, '127.0.0.1');
    }),
  };
}

describe('startDhcpServer', () => {
  it('answers a real udhcpc DISCOVER with an OFFER, counts it and records the machine', async () => {
    const { server, machines, metrics } = await start();
    const c = await client();
    const reply = parseDhcpPacket((await c.exchange(loadFixture('udhcpc-discover'), server.ports[0]!))!);
    expect([reply.op, reply.yiaddr, reply.options.get(53)?.[0]]).toEqual([2, '10.99.0.100', 2]);
    expect(metrics.render()).toContain('trowel_dhcp_packets_total{direction="in",type="discover"} 1');
    expect(metrics.render()).toContain('trowel_dhcp_packets_total{direction="out",type="offer"} 1');
    expect(machines.get('52:54:00:c0:ff:10')).toMatchObject({ ip: '10.99.0.100', arch: null });
  });

  it('records arch and UUID of PXE firmware', async () => {
    const { server, machines } = await start();
    await (await client()).exchange(loadFixture('edk2-uefi-discover'), server.ports[0]!);
    expect(machines.get('52:54:00:c0:ff:03')).toMatchObject({ arch: 7, uuid: '00112233-4455-6677-8899-aabbccddeeff' });
  });

  it('logs a malformed packet with its peer, MAC and xid, counts it, and keeps serving', async () => {
    const { server, metrics, records } = await start();
    const c = await client();
    const broken = loadFixture('udhcpc-discover').subarray(0, 243);
    broken[241] = 200; // option 53 claims 200 bytes
    expect(await c.exchange(broken, server.ports[0]!, 300)).toBeUndefined();
    expect(metrics.render()).toContain('trowel_dhcp_dropped_total{reason="malformed"} 1');
    const port = c.socket.address().port;
    expect(records.find((r) => r.event === 'dhcp.dropped')).toMatchObject({ level: 'warn', reason: 'malformed', peer: `127.0.0.1:${port}`, mac: '52:54:00:c0:ff:10', xid: loadFixture('udhcpc-discover').readUInt32BE(4) });
    expect(await c.exchange(loadFixture('udhcpc-discover'), server.ports[0]!)).toBeDefined();
  });

  it('in proxy mode listens on two ports, ignores plain clients and ACKs PXE on the second', async () => {
    const { server, metrics } = await start({ mode: 'proxy' });
    expect(server.ports).toHaveLength(2);
    const c = await client();
    expect(await c.exchange(loadFixture('udhcpc-discover'), server.ports[0]!, 300)).toBeUndefined();
    expect(metrics.render()).toContain('trowel_dhcp_dropped_total{reason="not-pxe"} 1');
    const offer = parseDhcpPacket((await c.exchange(loadFixture('edk2-uefi-discover'), server.ports[0]!))!);
    expect([offer.yiaddr, offer.file]).toEqual(['0.0.0.0', 'ipxe.efi']);
    const ack = parseDhcpPacket((await c.exchange(loadFixture('edk2-uefi-request'), server.ports[1]!))!);
    expect([ack.options.get(53)?.[0], ack.file]).toEqual([5, 'ipxe.efi']);
  });

  it('mode off listens on nothing', async () => {
    const s: DhcpServer = await startDhcpServer({
      config: dhcpConfig({ mode: 'off' }), boot: BOOT, db: openDatabase(':memory:'), machines: new MachineStore(openDatabase(':memory:')),
      metrics: new MetricsRegistry(), log: createLogger('dhcp', () => {}),
    });
    expect(s.ports).toEqual([]);
    await s.close();
  });

  it('says which address it could not bind', async () => {
    await expect(startDhcpServer({
      config: dhcpConfig({ port: 0 }), boot: BOOT, db: openDatabase(':memory:'), machines: new MachineStore(openDatabase(':memory:')),
      metrics: new MetricsRegistry(), log: createLogger('dhcp', () => {}), bindAddress: '192.0.2.1',
    })).rejects.toMatchObject({ code: 'EDHCPBIND', message: 'Cannot listen for DHCP on 192.0.2.1:0: EADDRNOTAVAIL' });
  });
});
