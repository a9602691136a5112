/**
 * Fuzzing: random and mutated packets (mutations of the real captures) at
 * the codec and the handlers, then at a running server on loopback. Nothing
 * may throw anything but a WireError/RangeError from the codec, and the
 * server must still answer a valid DISCOVER afterwards. Seeded, so a failure
 * names the seed that reproduces it (TROWEL_FUZZ_SEED=...).
 */
import dgram from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureNames, loadFixture } from '../../test/helpers/dhcp-fixtures.ts';
import { BOOT, dhcpConfig } from '../../test/helpers/dhcp-requests.ts';
import { silentLogger } from '../log/logger.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { MachineStore, openDatabase } from '../store/index.ts';
import { WireError } from '../wire/index.ts';
import { AuthoritativeHandler } from './authoritative.ts';
import { encodeDhcpPacket, parseDhcpPacket } from './codec.ts';
import type { Handler } from './handler.ts';
import { LeaseStore } from './leases.ts';
import { clientMac, messageType } from './packet.ts';
import { ProxyHandler } from './proxy.ts';
import { startDhcpServer } from './server.ts';
import { seededRandom } from '../../test/helpers/seeded-random.ts';

const SEED = Number(process.env.TROWEL_FUZZ_SEED ?? Date.now() % 2 ** 31);
const seeds = fixtureNames().map(loadFixture);

function mutator(seed: number): () => Buffer {
  const rnd = seededRandom(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)]!;
  const interesting = [0, 1, 2, 3, 52, 53, 54, 55, 57, 60, 61, 77, 93, 97, 175, 255];
  return () => {
    if (rnd() < 0.1) return Buffer.from(Array.from({ length: int(700) }, () => int(256)));
    const b = Buffer.from(pick(seeds));
    let out = b;
    for (let n = 1 + int(4); n > 0; n--) {
      switch (int(7)) {
        case 0: out[int(out.length)] = int(256); break; // flip a byte anywhere
        case 1: out[240 + int(Math.max(1, out.length - 240))] = pick(interesting); break; // an option code or length
        case 2: out = out.subarray(0, int(out.length + 1)); break; // truncate
        case 3: { // insert a random option (possibly lying about its length) after the cookie
          const len = int(256);
          const opt = Buffer.from([pick(interesting), len, ...Array.from({ length: int(len + 8) }, () => int(256))]);
          out = Buffer.concat([out.subarray(0, 240), opt, out.subarray(240)]);
          break;
        }
        case 4: out = Buffer.concat([out.subarray(0, 240), Buffer.from([52, 1, int(5)]), out.subarray(240)]); break; // overload
        case 5: out.fill(int(256), Math.min(44, out.length), Math.min(44 + int(192), out.length)); break; // garbage in sname/file
        default: out[2] = int(40); break; // hlen
      }
    }
    return out;
  };
}

function throwsOnlyWireErrors(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof RangeError)) throw new Error(`seed ${SEED}: ${(e as Error).stack}`);
  }
}

describe(`DHCP fuzz (seed ${SEED})`, () => {
  it('100k random and mutated packets: the codec and both handlers throw nothing but WireError/RangeError', () => {
    const next = mutator(SEED);
    const handlers: Handler[] = [
      new AuthoritativeHandler({ config: dhcpConfig({ range: { first: '10.99.0.10', last: '10.99.3.250' } }), boot: BOOT, leases: new LeaseStore(openDatabase(':memory:')), log: silentLogger }),
      new ProxyHandler({ boot: BOOT, log: silentLogger }),
    ];
    let parsed = 0;
    for (let i = 0; i < 100_000; i++) {
      const bytes = next();
      let p: ReturnType<typeof parseDhcpPacket>;
      try {
        p = parseDhcpPacket(bytes);
      } catch (e) {
        if (!(e instanceof WireError)) throw new Error(`seed ${SEED}, packet ${bytes.toString('hex')}: ${(e as Error).stack}`);
        continue;
      }
      parsed++;
      throwsOnlyWireErrors(() => encodeDhcpPacket(p));
      const mac = clientMac(p);
      let type: number | undefined;
      throwsOnlyWireErrors(() => (type = messageType(p)));
      if (!mac || type === undefined) continue;
      for (const h of handlers) {
        throwsOnlyWireErrors(() => {
          const reply = h.handle({ packet: p, mac, type: type!, via: i % 2 ? 'dhcp' : 'pxe' }).reply;
          if (reply) expect(parseDhcpPacket(encodeDhcpPacket(reply)).xid).toBe(p.xid);
        });
      }
    }
    // The mutations must mostly keep packets parseable, or the handlers were barely exercised.
    expect(parsed).toBeGreaterThan(20_000);
  });

  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it('100k packets at a running server on loopback: no crash, and a valid DISCOVER still gets an OFFER', async () => {
    const db = openDatabase(':memory:');
    const metrics = new MetricsRegistry();
    const server = await startDhcpServer({
      config: dhcpConfig({ port: 0, range: { first: '10.99.0.10', last: '10.99.3.250' }, reservations: [{ mac: '52:54:00:c0:ff:10', address: '10.99.0.5' }] }),
      boot: BOOT, db, machines: new MachineStore(db), metrics, log: silentLogger, bindAddress: '127.0.0.1',
    });
    closers.push(() => server.close());
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => socket.close(() => r())));
    const port = server.ports[0]!;
    const next = mutator(SEED + 1);
    const seen = () => {
      const text = metrics.render();
      return [...text.matchAll(/^trowel_dhcp_(?:packets_total\{direction="in"|dropped_total)[^ ]* (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    let sent = 0;
    const settle = async (target: number) => {
      // Loopback UDP drops what doesn't fit the receive buffer (~170 small packets): let the server catch up.
      for (let spins = 0; seen() < target && spins < 2000; spins++) await new Promise((r) => setImmediate(r));
    };
    while (sent < 100_000) {
      await Promise.all(Array.from({ length: 100 }, () => new Promise<void>((r) => socket.send(next(), port, '127.0.0.1', () => r()))));
      sent += 100;
      await settle(sent - 20);
    }
    await settle(sent);
    const valid = loadFixture('udhcpc-discover');
    valid.writeUInt32BE(0x7e57f00d, 4); // an xid no mutated packet carries
    const reply = await new Promise<Buffer>((resolve, reject) => {
      // Like a real client, retransmit until answered.
      const resend = setInterval(() => socket.send(valid, port, '127.0.0.1'), 500);
      const timer = setTimeout(() => {
        clearInterval(resend);
        reject(new Error(`seed ${SEED}: no OFFER after the fuzz run`));
      }, 10_000);
      socket.on('message', (m) => {
        if (m.length > 8 && m.readUInt32BE(4) === 0x7e57f00d) {
          clearTimeout(timer);
          clearInterval(resend);
          resolve(m);
        }
      });
      socket.send(valid, port, '127.0.0.1');
    });
    const offer = parseDhcpPacket(reply);
    expect([offer.options.get(53)?.[0], offer.yiaddr]).toEqual([2, '10.99.0.5']);
    // Nearly every packet reached the server and was handled or counted as dropped.
    expect(seen()).toBeGreaterThan(99_000);
  }, 60_000);
});
