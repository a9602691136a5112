import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { receiveFile, sendFile } from './index.ts';

const endpoint = { group: '239.255.84.1', port: 5999, interfaceAddress: '127.0.0.1', sessionId: 1, key: randomBytes(32) };

describe('sendFile and receiveFile refuse bad input with a TrowelError', () => {
  it('sendFile: a missing file', async () => {
    await expect(sendFile({ ...endpoint, file: '/nonexistent/stream', rateBitsPerSecond: 1e6, mtu: 1500 })).rejects.toMatchObject({ code: 'EMCAST_FILE' });
  });

  it('sendFile: a key of the wrong size, FEC groups beyond GF(2^8), no rate', async () => {
    const file = new URL(import.meta.url).pathname;
    const cases = [
      { ...endpoint, key: randomBytes(16), file, rateBitsPerSecond: 1e6, mtu: 1500 },
      { ...endpoint, file, rateBitsPerSecond: 1e6, mtu: 1500, fec: { groupSize: 300, proactiveParity: 0 } },
      { ...endpoint, file, rateBitsPerSecond: 1e6, mtu: 1500, fec: { groupSize: 64, proactiveParity: 200 } },
      { ...endpoint, file, rateBitsPerSecond: 0, mtu: 1500 },
    ];
    for (const options of cases) await expect(sendFile(options)).rejects.toMatchObject({ code: 'EMCAST_OPTIONS' });
  });

  it('receiveFile: a key of the wrong size rejects done', async () => {
    const { done, readable } = receiveFile({ ...endpoint, key: randomBytes(8), spoolFile: '/nonexistent/spool' });
    await expect(done).rejects.toMatchObject({ code: 'EMCAST_OPTIONS' });
    expect(readable.readable).toBe(true);
  });

  it('receiveFile: an aborted signal rejects done and ends the stream with the error', async () => {
    const controller = new AbortController();
    controller.abort();
    const { done, readable } = receiveFile({ ...endpoint, spoolFile: '/nonexistent/spool', signal: controller.signal });
    await expect(done).rejects.toMatchObject({ code: 'EMCAST_ABORTED' });
    await expect(readable.toArray()).rejects.toMatchObject({ code: 'EMCAST_ABORTED' });
  });
});

describe('receiveFile says why it heard no session', () => {
  /** A group of its own per test on loopback (multicast loops back on lo here), so parallel files don't meet. */
  const onLoopback = () => ({ ...endpoint, group: '239.255.84.77', port: 20000 + Math.floor(Math.random() * 20000) });

  it('silence: times out and points at the path (IGMP snooping, firewall)', async () => {
    const { done, readable } = receiveFile({ ...onLoopback(), spoolFile: join(tmpdir(), `trowel-silent-${process.pid}`), timeoutMs: 300 });
    const ended = readable.toArray().catch((e: unknown) => e); // read from the start: the stream ends with the same error
    await expect(done).rejects.toMatchObject({ code: 'EMCAST_TIMEOUT', message: expect.stringMatching(/no session was heard for \d+ s/) });
    expect(await ended).toMatchObject({ code: 'EMCAST_TIMEOUT' });
  });

  it('a sender of another release: names both protocol versions and where the packets came from', async () => {
    const where = onLoopback();
    const { done, readable } = receiveFile({ ...where, spoolFile: join(tmpdir(), `trowel-foreign-${process.pid}`), timeoutMs: 500 });
    const ended = readable.toArray().catch((e: unknown) => e);
    const old = createSocket('udp4');
    await new Promise<void>((ok) => old.bind(0, '127.0.0.1', ok));
    old.setMulticastInterface('127.0.0.1');
    // magic "TW", version 3, ANNOUNCE, session 1, then bytes this release can't read anyway.
    const packet = Buffer.concat([Buffer.from('5457030100000001', 'hex'), randomBytes(60)]);
    const timer = setInterval(() => old.send(packet, where.port, where.group), 50);
    try {
      await expect(done).rejects.toMatchObject({
        code: 'EMCAST_VERSION',
        message: expect.stringMatching(/only packets of multicast protocol version 3 \(from 127\.0\.0\.1\); this receiver speaks version 4/),
      });
      expect(await ended).toMatchObject({ code: 'EMCAST_VERSION' });
    } finally {
      clearInterval(timer);
      old.close();
    }
  });
});
