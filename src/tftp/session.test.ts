import { describe, expect, it } from 'vitest';
import { UdpProbe } from '../../test/helpers/tftp-client.ts';
import { createLogger, type LogRecord } from '../log/logger.ts';
import { TransferSession } from './session.ts';
import { openTransferSockets } from './sockets.ts';
import { BufferSource, type ByteSource } from './source.ts';
import { ReadTransfer } from './transfer.ts';

async function session(peer: { address: string; port: number }, source: ByteSource, records: LogRecord[] = [], onBytes: (n: number) => void = () => {}) {
  const { socket, stray } = await openTransferSockets('127.0.0.1', peer);
  const transfer = new ReadTransfer({ source, blockSize: 512, windowSize: 1, maxRetries: 1 });
  const s = new TransferSession({ socket, stray, peer, transfer, source, timeoutMs: 200, log: createLogger('t', (r) => records.push(r), 0), onBytes });
  return { session: s, port: socket.address().port };
}

describe('TransferSession', () => {
  it('survives a client whose port is closed (ICMP errors on the connected socket) and ends by timeout', async () => {
    const gone = await UdpProbe.open();
    const port = gone.port;
    await gone.close();
    const records: LogRecord[] = [];
    const { session: s } = await session({ address: '127.0.0.1', port }, new BufferSource(Buffer.alloc(100)), records);
    s.start();
    expect(await s.finished).toBe('timeout');
    const errors = records.filter((r) => r.event === 'tftp.socket_error' || r.event === 'tftp.send_failed');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((r) => r.level === 'debug')).toBe(true);
  });

  it('answers a packet from another TID with ERROR 5 from the transfer\'s port and goes on', async () => {
    const client = await UdpProbe.open();
    const stranger = await UdpProbe.open();
    try {
      const { session: s, port } = await session({ address: '127.0.0.1', port: client.port }, new BufferSource(Buffer.alloc(600)));
      s.start();
      expect((await client.next())?.msg.subarray(0, 4)).toEqual(Buffer.from('00030001', 'hex'));
      await stranger.send(Buffer.from('00040001', 'hex'), port);
      const error = await stranger.next();
      expect(error?.rinfo.port).toBe(port);
      expect(error?.msg.subarray(0, 4)).toEqual(Buffer.from('00050005', 'hex'));
      expect(await client.next(100)).toBeUndefined(); // the stranger's ACK moved nothing
      await client.send(Buffer.from('00040001', 'hex'), port);
      expect((await client.next())?.msg.subarray(0, 4)).toEqual(Buffer.from('00030002', 'hex'));
      await client.send(Buffer.from('00040002', 'hex'), port);
      expect(await s.finished).toBe('ok');
    } finally {
      await client.close();
      await stranger.close();
    }
  });

  it('tells the client and ends with "error" when the file cannot be read mid-transfer', async () => {
    const client = await UdpProbe.open();
    const failing: ByteSource = { size: 10, read: () => Promise.reject(new Error('EIO')), close: () => Promise.resolve() };
    try {
      const { session: s, port } = await session({ address: '127.0.0.1', port: client.port }, failing);
      s.start();
      expect(await s.finished).toBe('error');
      const got = await client.next();
      expect(got?.rinfo.port).toBe(port);
      expect(got?.msg).toEqual(Buffer.from('00050000' + Buffer.from('Cannot read file\0').toString('hex'), 'hex'));
    } finally {
      await client.close();
    }
  });

  it('handles ACKs that arrive while a read is waiting in order, after it, and ignores the duplicate', async () => {
    const client = await UdpProbe.open();
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    const inner = new BufferSource(data);
    // Every read waits 20 ms, like a disk read that has not landed.
    const slow: ByteSource = {
      size: data.length,
      read: (length) => {
        const bytes = Buffer.from(inner.read(length) as Buffer);
        return new Promise((resolve) => setTimeout(() => resolve(bytes), 20));
      },
      close: () => Promise.resolve(),
    };
    try {
      const { session: s, port } = await session({ address: '127.0.0.1', port: client.port }, slow);
      s.start();
      const first = await client.next();
      expect(first?.msg.subarray(0, 4)).toEqual(Buffer.from('00030001', 'hex'));
      await client.send(Buffer.from('00040001', 'hex'), port);
      await client.send(Buffer.from('00040001', 'hex'), port); // a duplicate, queued behind the pending read
      const second = await client.next();
      expect(second?.msg.subarray(0, 4)).toEqual(Buffer.from('00030002', 'hex'));
      expect(second?.msg.subarray(4)).toEqual(data.subarray(512));
      expect(await client.next(100)).toBeUndefined(); // the duplicate ACK sent nothing
      await client.send(Buffer.from('00040002', 'hex'), port);
      expect(await s.finished).toBe('ok');
    } finally {
      await client.close();
    }
  });

  it('reports sent bytes in batches, all of them by the time the last block is out', async () => {
    const client = await UdpProbe.open();
    const size = 300 * 512 + 100; // 301 blocks
    const reports: number[] = [];
    try {
      const { session: s, port } = await session({ address: '127.0.0.1', port: client.port }, new BufferSource(Buffer.alloc(size, 7)), [], (n) => reports.push(n));
      s.start();
      for (let block = 1; ; block++) {
        const got = await client.next();
        expect(got?.msg.readUInt16BE(2)).toBe(block);
        if (got!.msg.length < 516) break;
        await client.send(Buffer.from([0, 4, block >> 8, block & 0xff]), port);
      }
      // The final ACK has not been sent: the session is still running.
      expect(reports.reduce((a, b) => a + b, 0)).toBe(size);
      expect(reports.length).toBeLessThan(10);
      await client.send(Buffer.from([0, 4, 301 >> 8, 301 & 0xff]), port);
      expect(await s.finished).toBe('ok');
    } finally {
      await client.close();
    }
  });
});
