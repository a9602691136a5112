import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startDrain, type Drain } from './datagram-drain.ts';
import { bindSocket, closeQuietly, connectSocket } from './sockets.ts';

const opened: Socket[] = [];
const drains: Drain[] = [];

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  opened.push(s);
  await bindSocket(s, 0, '127.0.0.1');
  return s;
}

function send(from: Socket, to: Socket, datagram: Buffer): Promise<void> {
  return new Promise((resolve, reject) => from.send(datagram, to.address().port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}

function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => (check() ? resolve() : Date.now() > end ? reject(new Error('timed out')) : setTimeout(poll, 5));
    poll();
  });
}

afterEach(() => {
  for (const d of drains.splice(0)) d.stop();
  closeQuietly(...opened.splice(0));
});

describe('startDrain', () => {
  it('hands over every datagram of the connected peer, in order and byte for byte, and none of anyone else', async () => {
    const receiver = await udp();
    const peer = await udp();
    const stranger = await udp();
    await connectSocket(receiver, peer.address().port, '127.0.0.1');
    // Room for all of them: UDP drops what overflows, and this test is about what gets through.
    receiver.setRecvBufferSize(4 << 20);
    const got: Buffer[] = [];
    const errors: Error[] = [];
    // While idle, dgram's event delivers (and wakes the polling): both paths count, in arrival order.
    receiver.on('message', (m) => got.push(Buffer.from(m)));
    const drain = startDrain(receiver, (d) => got.push(Buffer.from(d)), (e) => errors.push(e));
    expect(drain).toBeDefined();
    drains.push(drain!);

    const sent: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      // Sizes from 1 byte to a fragmented 9 KB datagram; the content tells them apart.
      const datagram = Buffer.alloc(1 + ((i * 997) % 9000), i & 0xff);
      if (datagram.length >= 2) datagram.writeUInt16BE(i, 0);
      sent.push(datagram);
      await send(peer, receiver, datagram);
      if (i % 50 === 0) await send(stranger, receiver, Buffer.from('not from the peer'));
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 3));
    }
    await until(() => got.length >= sent.length).catch(() => {
      throw new Error(`got ${got.length} of ${sent.length} datagrams`);
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(errors).toEqual([]);
    expect(got.length).toBe(sent.length);
    for (let i = 0; i < sent.length; i++) expect(got[i]!.equals(sent[i]!)).toBe(true);
  });

  /** A connected pair, the receiver's buffer large enough for the bursts below. */
  async function pair(): Promise<{ receiver: Socket; peer: Socket }> {
    const receiver = await udp();
    const peer = await udp();
    await connectSocket(receiver, peer.address().port, '127.0.0.1');
    receiver.setRecvBufferSize(4 << 20);
    return { receiver, peer };
  }

  async function burst(peer: Socket, receiver: Socket, count: number): Promise<void> {
    for (let i = 0; i < count; i++) await send(peer, receiver, Buffer.alloc(1000, i));
  }

  it('reads a fast stream directly and leaves a trickle to dgram\'s event', async () => {
    const { receiver, peer } = await pair();
    let byEvent = 0;
    let direct = 0;
    receiver.on('message', () => byEvent++);
    drains.push(startDrain(receiver, () => direct++, () => {})!);
    const trickle = async () => {
      for (let i = 0; i < 10; i++) {
        await send(peer, receiver, Buffer.from('slow'));
        await new Promise((r) => setTimeout(r, 15));
      }
    };
    await trickle();
    await until(() => byEvent === 10);
    expect(direct).toBe(0);
    await burst(peer, receiver, 300);
    await until(() => byEvent + direct === 310);
    // POLL_ENTRY_COUNT by event, then directly.
    expect(direct).toBeGreaterThanOrEqual(200);
    const before = { byEvent, direct };
    await new Promise((r) => setTimeout(r, 30));
    await trickle();
    await until(() => byEvent + direct === 320);
    // Once the burst is over the drain gives the socket back: at most one datagram read directly on the way out.
    expect(direct - before.direct).toBeLessThanOrEqual(1);
  });

  it('reads nothing more once stopped', async () => {
    const { receiver, peer } = await pair();
    let direct = 0;
    let byEvent = 0;
    receiver.on('message', () => byEvent++);
    const drain = startDrain(receiver, () => direct++, () => {})!;
    await burst(peer, receiver, 100);
    await until(() => byEvent + direct === 100);
    expect(direct).toBeGreaterThan(0);
    drain.stop();
    const stoppedAt = direct;
    await burst(peer, receiver, 100);
    await new Promise((r) => setTimeout(r, 50));
    expect(direct).toBe(stoppedAt);
  });

  it('stops and reports what the handler throws', async () => {
    const { receiver, peer } = await pair();
    const errors: Error[] = [];
    let calls = 0;
    drains.push(
      startDrain(
        receiver,
        () => {
          calls++;
          throw new Error('disk full');
        },
        (e) => errors.push(e),
      )!,
    );
    await burst(peer, receiver, 100);
    await until(() => errors.length > 0);
    await burst(peer, receiver, 100);
    await new Promise((r) => setTimeout(r, 30));
    expect(errors.map((e) => e.message)).toEqual(['disk full']);
    expect(calls).toBe(1);
  });

  it('leaves a socket that is not bound to dgram (no descriptor yet)', () => {
    const unbound = createSocket('udp4');
    opened.push(unbound);
    expect(startDrain(unbound, () => {}, () => {})).toBeUndefined();
  });
});
