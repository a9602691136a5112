import { randomBytes } from 'node:crypto';
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
