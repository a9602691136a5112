/**
 * Random and mutated packets at the codec and at a running server: nothing
 * may throw anything but WireError, nothing may crash the server, and a
 * normal read still works afterwards. Seeded, so a failure can be replayed
 * with TROWEL_FUZZ_SEED.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackBytes, requestBytes, tftpGet, UdpProbe } from '../../test/helpers/tftp-client.ts';
import { createLogger } from '../log/logger.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { WireError } from '../wire/index.ts';
import { encodeRequest, Opcode, parsePacket } from './codec.ts';
import { startTftpServer, type TftpServer } from './index.ts';
import { seededRandom } from '../../test/helpers/seeded-random.ts';

const SEED = Number(process.env.TROWEL_FUZZ_SEED ?? 0x7f7f) >>> 0;

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SEEDS = [
  hex('0001 7078656c696e75782e3000 6f6374657400 626c6b73697a6500 3134363800 7473697a6500 3000'),
  hex('0001 612e62696e00 6e65746173636969 00 77696e646f7773697a6500 313600 74696d656f757400 3300'),
  hex('0002 7570006f6374657400'),
  hex('0003 0001 00112233445566778899'),
  hex('0004 0001'),
  hex('0004 ffff'),
  hex('0005 0008 6e6f00'),
  hex('0006 626c6b73697a6500 3500'),
];

function mutate(rand: () => number): Buffer {
  const pick = (n: number) => Math.floor(rand() * n);
  if (rand() < 0.25) {
    const out = Buffer.alloc(pick(80));
    for (let i = 0; i < out.length; i++) out[i] = pick(256);
    if (out.length >= 2 && rand() < 0.7) out.writeUInt16BE(pick(8), 0); // mostly plausible opcodes
    return out;
  }
  const bytes = [...SEEDS[pick(SEEDS.length)]!];
  for (let n = 1 + pick(4); n > 0; n--) {
    const at = pick(bytes.length + 1);
    switch (pick(5)) {
      case 0: bytes[at] = pick(256); break; // replace
      case 1: bytes.splice(at, 0, pick(4) === 0 ? 0 : pick(256)); break; // insert
      case 2: bytes.splice(at, 1); break; // delete
      case 3: bytes.length = at; break; // truncate
      default: if (at < bytes.length) bytes[at] = bytes[at]! ^ (1 << pick(8)); // flip a bit
    }
  }
  return Buffer.from(bytes);
}

describe('TFTP fuzzing', () => {
  it('parsePacket returns a packet or throws WireError for 100k random/mutated inputs', () => {
    const rand = seededRandom(SEED);
    const kinds = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const input = mutate(rand);
      try {
        const packet = parsePacket(input);
        kinds.set(`ok${packet.opcode}`, (kinds.get(`ok${packet.opcode}`) ?? 0) + 1);
        // A request that parses re-encodes to something that parses to the same request.
        if (packet.opcode === Opcode.RRQ || packet.opcode === Opcode.WRQ) expect(parsePacket(encodeRequest(packet))).toEqual(packet);
      } catch (e) {
        if (!(e instanceof WireError)) throw new Error(`seed ${SEED} input ${input.toString('hex')}: ${String(e)}`);
        kinds.set('rejected', (kinds.get('rejected') ?? 0) + 1);
      }
    }
    // The mutator must exercise both paths for every kind, or the test proves little.
    for (const kind of ['rejected', 'ok1', 'ok2', 'ok3', 'ok4', 'ok5', 'ok6']) expect(kinds.get(kind), kind).toBeGreaterThan(100);
  });

  describe('against a running server on 127.0.0.1', () => {
    let dir: string;
    let server: TftpServer;
    const metrics = new MetricsRegistry();
    let logged = 0;
    const file = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 13) & 0xff));

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'trowel-tftp-fuzz-'));
      await writeFile(join(dir, 'pxelinux.0'), file);
      await writeFile(join(dir, 'a.bin'), file.subarray(0, 3000));
      server = await startTftpServer({
        root: dir,
        port: 0,
        bindAddress: '127.0.0.1',
        metrics,
        log: createLogger('fuzz', () => void logged++, 0),
        dynamicFile: (path) => (path.startsWith('pxelinux.cfg/') ? Buffer.from('DEFAULT x\n') : undefined),
      });
    });
    afterAll(async () => {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('survives 100k packets at its listening port and at transfer ports, then serves a normal read', async () => {
      const rand = seededRandom(SEED ^ 0x5a5a);
      // Two probes throw packets at the listening port; each round, two fresh
      // clients open transfers whose ports get packets from their own peer and from a stranger.
      const probes = await Promise.all([0, 1].map(() => UdpProbe.open()));
      let clients: UdpProbe[] = [];
      // The kernel may give a fresh client the port of an earlier one whose transfer
      // is still retrying (about 6 s); its RRQ then counts as that transfer's
      // retransmitted request and gets no fresh OACK. Hold such ports and take others.
      const recent = new Map<number, number>();
      const freshClient = async (): Promise<UdpProbe> => {
        const held: UdpProbe[] = [];
        try {
          for (;;) {
            const c = await UdpProbe.open();
            const at = recent.get(c.port);
            if (at === undefined || Date.now() - at > 8000) {
              recent.set(c.port, Date.now());
              return c;
            }
            held.push(c);
          }
        } finally {
          for (const h of held) await h.close();
        }
      };
      try {
        const started = Date.now();
        let tids: number[] = [];
        for (let i = 0; i < 100_000; i++) {
          if (i % 250 === 0) {
            for (const c of clients) await c.close();
            clients = [await freshClient(), await freshClient()];
            tids = [];
            for (const c of clients) {
              await c.send(requestBytes(1, 'pxelinux.0', 'octet', { windowsize: '4' }), server.port);
              const reply = await c.next(5000);
              expect(reply?.msg.readUInt16BE(0)).toBe(Opcode.OACK);
              tids.push(reply!.rinfo.port);
            }
          }
          const packet = rand() < 0.1 ? ackBytes(Math.floor(rand() * 65536)) : mutate(rand);
          if (rand() < 0.3) {
            const k = Math.floor(rand() * 2);
            clients[Math.floor(rand() * 2)]!.socket.send(packet, tids[k]!, '127.0.0.1');
          } else {
            probes[Math.floor(rand() * 2)]!.socket.send(packet, server.port, '127.0.0.1');
          }
          if (i % 50 === 49) {
            // Let the server's event loop keep up, so packets are handled rather than dropped by the kernel.
            await new Promise((resolve) => setTimeout(resolve, 1));
            for (const p of [...probes, ...clients]) p.drain();
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(Date.now() - started).toBeLessThan(30_000);
        // Packets were handled, not just dropped by the kernel: bad ones logged, valid
        // requests refused. (Typically ~85k log lines and ~2k refusals; the bounds leave
        // room for a loaded machine where the kernel drops more.)
        expect(logged).toBeGreaterThan(20_000);
        expect(metrics.counter('trowel_tftp_transfers_total', '').get({ result: 'refused' })).toBeGreaterThan(300);
        const got = await tftpGet(server.port, 'pxelinux.0', { request: { blksize: '1468', tsize: '0' } });
        expect(got.data.equals(file)).toBe(true);
        expect(got.oack).toEqual({ blksize: '1468', tsize: '70000' });
      } finally {
        for (const p of [...probes, ...clients]) await p.close();
      }
    }, 60_000);
  });
});
