import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { UdpProbe } from '../../test/helpers/tftp-client.ts';
import { createLogger, type LogRecord } from '../log/logger.ts';
import { TransferSession } from './session.ts';
import { BufferSource, type ByteSource } from './source.ts';
import { ReadTransfer } from './transfer.ts';

async function session(peer: { address: string; port: number }, source: ByteSource, records: LogRecord[] = []) {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const transfer = new ReadTransfer({ source, blockSize: 512, windowSize: 1, maxRetries: 1 });
  const s = new TransferSession({ socket, peer, transfer, source, timeoutMs: 200, log: createLogger('t', (r) => records.push(r), 0), onBytes: () => {} });
  return { session: s, port: socket.address().port };
}

describe('TransferSession', () => {
  it('survives a send that throws (peer port 0) and ends by timeout', async () => {
    const records: LogRecord[] = [];
    const { session: s } = await session({ address: '127.0.0.1', port: 0 }, new BufferSource(Buffer.alloc(100)), records);
    s.start();
    expect(await s.finished).toBe('timeout');
    expect(records.some((r) => r.event === 'tftp.send_failed')).toBe(true);
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
});
