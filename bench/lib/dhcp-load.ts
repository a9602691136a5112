/**
 * A DHCP load generator: full DORA exchanges (DISCOVER, OFFER, REQUEST, ACK;
 * RFC 2131 3.1) from many distinct MACs, with a fixed window of exchanges in
 * flight. Packets are built and parsed with trowel's own codec (src/dhcp).
 *
 * Every request sets the broadcast flag (RFC 2131 4.1): one UDP socket
 * stands in for thousands of clients, and none of them owns the address it
 * is offered, so a reply unicast to yiaddr could not reach it. A step that
 * gets no answer within `timeoutMs` is sent again (same xid, RFC 2131 4.1
 * retransmission) up to `maxAttempts` times; then the exchange counts as failed.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { DhcpOption, encodeDhcpPacket, MessageType, parseDhcpPacket, type DhcpPacket } from '../../src/dhcp/index.ts';
import { median } from './stats.ts';

export interface DhcpLoadOptions {
  /** Where requests go: 255.255.255.255 on a real segment, 127.0.0.1 in a loopback test. */
  target: string;
  serverPort: number;
  /** Local address and port to bind (0.0.0.0:68 on a segment; port 0 picks one). */
  bindAddress: string;
  clientPort: number;
  exchanges: number;
  /** Exchanges before the timed ones (their MACs are distinct too); not counted in the result. */
  warmup: number;
  window: number;
  timeoutMs: number;
  /** Sends per step (first try included) before the exchange is given up. */
  maxAttempts: number;
  /** Index of the first MAC; MACs are 02:xx:xx:xx:xx:xx (locally administered) from this on. */
  macBase: number;
}

export interface DhcpLoadResult {
  exchanges: number;
  completed: number;
  failed: number;
  /** Requests sent again after a timeout. */
  retries: number;
  naks: number;
  /** Replies whose xid, MAC or state matched nothing in flight (late duplicates). */
  stray: number;
  /** ACKs for an address already ACKed to another MAC in this run: a server bug if ever > 0. */
  duplicateAddresses: number;
  seconds: number;
  exchangesPerSecond: number;
  /**
   * Exchanges/s in each tenth of the run, in order of completion. Every ACK
   * adds a lease, so a falling curve means the server's cost grows with the
   * number of leases it holds.
   */
  tenths: number[];
  /** CPU seconds the generator itself used: near `seconds` would mean it, not the server, set the pace. */
  generatorCpuSeconds: number;
  latencyMs: { p50: number; p99: number; max: number };
}

/** The MAC for exchange number `index` (locally administered, unicast). */
export function macForIndex(index: number): Buffer {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** 40) throw new RangeError(`Cannot make a MAC from index ${index}: give 0 to 2^40-1`);
  const mac = Buffer.alloc(6);
  mac[0] = 0x02;
  mac.writeUIntBE(index, 1, 5);
  return mac;
}

const PARAMETERS = Buffer.from([1, 3, 6, 12, 15, 28, 51, 54, 58, 59]);
const FLAG_BROADCAST = 0x8000;

function request(mac: Buffer, xid: number, type: number, extra: [number, Buffer][] = []): DhcpPacket {
  const chaddr = Buffer.alloc(16);
  mac.copy(chaddr);
  return {
    op: 1, htype: 1, hlen: 6, hops: 0, xid, secs: 0, flags: FLAG_BROADCAST,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr, sname: '', file: '',
    options: new Map<number, Buffer>([
      [DhcpOption.messageType, Buffer.from([type])],
      // Option 61: hardware type 1 + MAC, as dhclient and udhcpc send it.
      [DhcpOption.clientId, Buffer.concat([Buffer.from([1]), mac])],
      ...extra,
      [DhcpOption.parameterRequestList, PARAMETERS],
    ]),
  };
}

export function discoverPacket(mac: Buffer, xid: number): Buffer {
  return encodeDhcpPacket(request(mac, xid, MessageType.discover));
}

/** REQUEST in SELECTING state: the offered address (50) and the chosen server (54), no ciaddr (RFC 2131 4.3.2). */
export function selectingRequestPacket(mac: Buffer, xid: number, address: string, serverId: Buffer): Buffer {
  const ip = Buffer.from(address.split('.').map(Number));
  return encodeDhcpPacket(request(mac, xid, MessageType.request, [[DhcpOption.requestedAddress, ip], [DhcpOption.serverId, serverId]]));
}

interface Exchange {
  mac: Buffer;
  xid: number;
  step: 'discover' | 'request';
  packet: Buffer;
  attempts: number;
  sentAt: number;
  startedAt: number;
  /** NAKs so far; each sends the client back to DISCOVER. */
  naks: number;
  offered?: string;
}

export async function runDhcpLoad(options: DhcpLoadOptions): Promise<DhcpLoadResult> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: options.bindAddress, port: options.clientPort }, () => {
      socket.removeListener('error', reject);
      socket.setBroadcast(true);
      // Thousands of replies can land between two turns of the event loop.
      socket.setRecvBufferSize(4 * 1024 * 1024);
      resolve();
    });
  });
  try {
    if (options.warmup > 0) await phase(socket, options, options.warmup, options.macBase);
    return await phase(socket, options, options.exchanges, options.macBase + options.warmup);
  } finally {
    socket.close();
  }
}

/** Runs `count` exchanges with MACs from `macBase` and `window` in flight; resolves when all finished. */
function phase(socket: dgram.Socket, o: DhcpLoadOptions, count: number, macBase: number): Promise<DhcpLoadResult> {
  const inFlight = new Map<number, Exchange>();
  const latencies: number[] = [];
  const completedAt: number[] = [];
  const addresses = new Set<string>();
  const r = { completed: 0, failed: 0, retries: 0, naks: 0, stray: 0, duplicateAddresses: 0 };
  let started = 0;
  // Random high bits keep xids of separate phases and runs apart.
  let nextXid = (Math.random() * 0xffff) << 16;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();

  return new Promise((resolve, reject) => {
    const send = (ex: Exchange) => {
      ex.sentAt = performance.now();
      socket.send(ex.packet, o.serverPort, o.target, (e) => {
        // A send error is the rig's fault (no route for the broadcast, say): stop rather than count timeouts.
        if (e) abort(new Error(`Cannot send DHCP ${ex.step} to ${o.target}:${o.serverPort}: ${e.message}`));
      });
    };
    const begin = (mac: Buffer, previous?: Exchange) => {
      const xid = (nextXid = (nextXid + 1) >>> 0);
      const fresh: Exchange = {
        mac, xid, step: 'discover', packet: discoverPacket(mac, xid), attempts: 1, sentAt: 0,
        startedAt: previous?.startedAt ?? performance.now(), naks: previous?.naks ?? 0,
      };
      inFlight.set(xid, fresh);
      send(fresh);
    };
    const startNext = () => {
      while (inFlight.size < o.window && started < count) begin(macForIndex(macBase + started++));
      if (inFlight.size === 0 && started >= count) finish();
    };
    const end = (ex: Exchange) => {
      inFlight.delete(ex.xid);
      startNext();
    };

    const onMessage = (msg: Buffer) => {
      let reply: DhcpPacket;
      try {
        reply = parseDhcpPacket(msg);
      } catch {
        r.stray += 1;
        return;
      }
      const ex = inFlight.get(reply.xid);
      const type = reply.options.get(DhcpOption.messageType)?.[0];
      if (reply.op !== 2 || !ex || !reply.chaddr.subarray(0, 6).equals(ex.mac)) {
        if (reply.op === 2) r.stray += 1; // our own broadcasts come back too; only count replies
        return;
      }
      if (type === MessageType.offer && ex.step === 'discover') {
        const serverId = reply.options.get(DhcpOption.serverId);
        if (!serverId || serverId.length !== 4) {
          r.stray += 1;
          return;
        }
        ex.step = 'request';
        ex.offered = reply.yiaddr;
        ex.packet = selectingRequestPacket(ex.mac, ex.xid, reply.yiaddr, serverId);
        ex.attempts = 1;
        send(ex);
      } else if (type === MessageType.ack && ex.step === 'request') {
        r.completed += 1;
        const now = performance.now();
        latencies.push(now - ex.startedAt);
        completedAt.push(now);
        if (addresses.has(reply.yiaddr)) r.duplicateAddresses += 1;
        addresses.add(reply.yiaddr);
        end(ex);
      } else if (type === MessageType.nak && ex.step === 'request') {
        // RFC 2131 3.1 step 5: after a NAK the client starts over with a DISCOVER.
        r.naks += 1;
        ex.naks += 1;
        inFlight.delete(ex.xid);
        if (ex.naks >= o.maxAttempts) {
          r.failed += 1;
          startNext();
        } else begin(ex.mac, ex);
      } else {
        r.stray += 1;
      }
    };
    socket.on('message', onMessage);

    const timer = setInterval(() => {
      const now = performance.now();
      for (const ex of [...inFlight.values()]) {
        if (now - ex.sentAt < o.timeoutMs) continue;
        if (ex.attempts >= o.maxAttempts) {
          r.failed += 1;
          if (r.completed === 0 && r.failed >= o.window) {
            abort(new Error(`Cannot load ${o.target}:${o.serverPort}: the first ${r.failed} exchanges got no answer`));
            return;
          }
          end(ex);
        } else {
          ex.attempts += 1;
          r.retries += 1;
          send(ex);
        }
      }
    }, Math.max(5, Math.floor(o.timeoutMs / 5)));

    let done = false;
    function abort(e: Error) {
      if (done) return;
      done = true;
      clearInterval(timer);
      socket.removeListener('message', onMessage);
      reject(e);
    }
    function finish() {
      if (done) return;
      done = true;
      clearInterval(timer);
      socket.removeListener('message', onMessage);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const sorted = latencies.sort((a, b) => a - b);
      resolve({
        exchanges: count,
        ...r,
        seconds,
        exchangesPerSecond: r.completed / seconds,
        tenths: tenths(completedAt, t0),
        generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
        latencyMs: {
          p50: sorted.length ? median(sorted) : 0,
          p99: sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! : 0,
          max: sorted.at(-1) ?? 0,
        },
      });
    }
    startNext();
  });
}

/** Rates over ten equal slices of the completions (by count), from completion times in ms since `t0`'s clock. */
export function tenths(completedAt: readonly number[], t0: number): number[] {
  const n = completedAt.length;
  if (n < 10) return [];
  const rates: number[] = [];
  let prevTime = t0;
  let prevIndex = 0;
  for (let k = 1; k <= 10; k++) {
    const index = Math.round((n * k) / 10);
    const time = completedAt[index - 1]!;
    rates.push(((index - prevIndex) * 1000) / Math.max(time - prevTime, 1e-3));
    prevTime = time;
    prevIndex = index;
  }
  return rates;
}
