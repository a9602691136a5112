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

  it('goes back to dgram\'s event when idle, and to reading directly at the next datagram', async () => {
    const receiver = await udp();
    const peer = await udp();
    await connectSocket(receiver, peer.address().port, '127.0.0.1');
    receiver.setRecvBufferSize(4 << 20);
    let byEvent = 0;
    let direct = 0;
    receiver.on('message', () => byEvent++);
    drains.push(startDrain(receiver, () => direct++, () => {})!);
    for (let round = 1; round <= 3; round++) {
      // Idle well past IDLE_MS: the next datagram comes by the event, the burst behind it directly.
      await new Promise((r) => setTimeout(r, 60));
      for (let i = 0; i < 100; i++) await send(peer, receiver, Buffer.alloc(1000, i));
      await until(() => byEvent + direct === 100 * round);
      expect(byEvent).toBeLessThanOrEqual(2 * round);
    }
    expect(direct).toBeGreaterThanOrEqual(294);
  });

  it('reads nothing more once stopped', async () => {
    const receiver = await udp();
    const peer = await udp();
    await connectSocket(receiver, peer.address().port, '127.0.0.1');
    let count = 0;
    const drain = startDrain(receiver, () => count++, () => {})!;
    await send(peer, receiver, Buffer.from('one'));
    await until(() => count === 1);
    drain.stop();
    await send(peer, receiver, Buffer.from('two'));
    await new Promise((r) => setTimeout(r, 50));
    expect(count).toBe(1);
  });

  it('stops and reports what the handler throws', async () => {
    const receiver = await udp();
    const peer = await udp();
    await connectSocket(receiver, peer.address().port, '127.0.0.1');
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
    await send(peer, receiver, Buffer.from('a'));
    await send(peer, receiver, Buffer.from('b'));
    await until(() => errors.length > 0);
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
