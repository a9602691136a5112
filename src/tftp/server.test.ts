import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ackBytes, requestBytes, tftpGet, TftpClientError, UdpProbe } from '../../test/helpers/tftp-client.ts';
import { TrowelError } from '../errors.ts';
import { createLogger, type LogRecord } from '../log/logger.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { startTftpServer, type TftpServer } from './index.ts';

const bytesOf = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + (i >> 9)) & 0xff));

async function errorOf(promise: Promise<unknown>): Promise<TftpClientError> {
  const e = await promise.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof TftpClientError)) throw new Error(`expected a TFTP error, got ${String(e)}`);
  return e;
}

describe('startTftpServer', () => {
  let base: string;
  let root: string;
  let server: TftpServer;
  const metrics = new MetricsRegistry();
  const records: LogRecord[] = [];
  const dynamicCalls: { path: string; address: string }[] = [];
  const big = bytesOf(300_000, 7);

  beforeAll(async () => {
    base = await realpath(await mkdtemp(join(tmpdir(), 'trowel-tftp-server-')));
    root = join(base, 'root');
    await mkdir(join(root, 'pxelinux.cfg'), { recursive: true });
    await writeFile(join(root, 'big.bin'), big);
    await writeFile(join(root, 'exact.bin'), bytesOf(1024, 3));
    await writeFile(join(root, 'text.cfg'), 'line1\nline2\r\n');
    await writeFile(join(root, 'pxelinux.cfg', 'default'), 'DEFAULT local\n');
    await writeFile(join(base, 'secret'), 'secret');
    await symlink('../secret', join(root, 'escape'));
    for (let i = 0; i < 12; i++) await writeFile(join(root, `f${i}`), bytesOf(20_000 + i * 977, i + 2));
    server = await startTftpServer({
      root,
      port: 0,
      bindAddress: '127.0.0.1',
      metrics,
      log: createLogger('tftp', (r) => records.push(r), 0),
      dynamicFile: (path, client) => {
        dynamicCalls.push({ path, address: client.address });
        if (path === 'pxelinux.cfg/01-52-54-00-00-00-01') return Buffer.from(`DEFAULT trowel\n# for ${client.address}\n`);
        if (path === 'broken') throw new Error('template exploded');
        return undefined;
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await rm(base, { recursive: true, force: true });
  });

  const counter = (result: string) => metrics.counter('trowel_tftp_transfers_total', '').get({ result });

  it('serves a file with negotiated options from a new port (its TID)', async () => {
    const before = metrics.counter('trowel_tftp_bytes_total', '').get();
    const got = await tftpGet(server.port, 'big.bin', { request: { blksize: '9000', tsize: '0', windowsize: '8', foo: 'bar' } });
    expect(got.oack).toEqual({ blksize: '1468', tsize: '300000', windowsize: '8' });
    expect(got.serverPort).not.toBe(server.port);
    expect(got.data.equals(big)).toBe(true);
    expect(metrics.counter('trowel_tftp_bytes_total', '').get() - before).toBeGreaterThanOrEqual(300_000);
    await vi.waitFor(() => expect(counter('ok')).toBeGreaterThanOrEqual(1)); // the final ACK is handled after the client returns
  });

  it('serves lock-step 512-byte blocks without options, with an empty final block', async () => {
    const got = await tftpGet(server.port, '/exact.bin');
    expect(got.oack).toBeUndefined();
    expect(got.data.equals(bytesOf(1024, 3))).toBe(true);
  });

  it('converts netascii and leaves tsize out', async () => {
    const got = await tftpGet(server.port, 'text.cfg', { mode: 'NetASCII', request: { tsize: '0', blksize: '512' } });
    expect(got.oack).toEqual({ blksize: '512' });
    expect(got.data).toEqual(Buffer.from('6c696e65310d0a6c696e65320d000d0a', 'hex'));
  });

  it('serves many transfers at once', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      tftpGet(server.port, `f${i}`, { request: i % 2 ? { blksize: '1468', windowsize: '4' } : {} })));
    results.forEach((r, i) => expect(r.data.equals(bytesOf(20_000 + i * 977, i + 2)), `f${i}`).toBe(true));
    expect(new Set(results.map((r) => r.serverPort)).size).toBe(12);
  });

  it('refuses a write request with access violation from a new port', async () => {
    const probe = await UdpProbe.open();
    try {
      const before = counter('refused');
      await probe.send(requestBytes(2, 'upload.bin'), server.port);
      const reply = await probe.next();
      expect(reply?.rinfo.port).not.toBe(server.port);
      expect(reply?.msg.subarray(0, 4)).toEqual(Buffer.from('00050002', 'hex'));
      expect(counter('refused')).toBe(before + 1);
    } finally {
      await probe.close();
    }
  });

  it('refuses traversal, symlink escapes, missing files and the mail mode, logging one line each', async () => {
    const cases: [string, string, number][] = [
      ['../../etc/passwd', 'octet', 2],
      ['/../secret', 'octet', 2],
      ['escape', 'octet', 2],
      ['missing.bin', 'octet', 1],
      ['pxelinux.cfg', 'octet', 1],
      ['big.bin', 'mail', 4],
      ['big.bin', 'banana', 4],
    ];
    for (const [file, mode, code] of cases) {
      const logged = records.length;
      expect((await errorOf(tftpGet(server.port, file, { mode }))).code, file).toBe(code);
      const lines = records.slice(logged).filter((r) => r.event === 'tftp.refused');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 'warn', file, code });
      expect(lines[0]!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    }
  });

  it('asks dynamicFile first, with the normalized path and the client address', async () => {
    dynamicCalls.length = 0;
    const got = await tftpGet(server.port, '/pxelinux.cfg/01-52-54-00-00-00-01', { request: { tsize: '0' } });
    expect(got.data.toString()).toBe('DEFAULT trowel\n# for 127.0.0.1\n');
    expect(got.oack).toEqual({ tsize: String(got.data.length) });
    expect(dynamicCalls).toEqual([{ path: 'pxelinux.cfg/01-52-54-00-00-00-01', address: '127.0.0.1' }]);
    // undefined falls through to the filesystem; a throwing callback is error 0.
    expect((await tftpGet(server.port, 'pxelinux.cfg/default')).data.toString()).toBe('DEFAULT local\n');
    expect((await errorOf(tftpGet(server.port, 'broken'))).code).toBe(0);
  });

  it('ignores a retransmitted RRQ and answers another TID with error 5', async () => {
    const client = await UdpProbe.open();
    const stranger = await UdpProbe.open();
    try {
      const rrq = requestBytes(1, 'big.bin');
      await client.send(rrq, server.port);
      await client.send(rrq, server.port);
      const first = await client.next();
      expect(first?.msg.subarray(0, 4)).toEqual(Buffer.from('00030001', 'hex'));
      const tid = first!.rinfo.port;
      // A second transfer would send another DATA 1 from another port.
      expect(await client.next(300)).toBeUndefined();
      await stranger.send(ackBytes(1), tid);
      expect((await stranger.next())?.msg.subarray(0, 4)).toEqual(Buffer.from('00050005', 'hex'));
      await client.send(ackBytes(1), tid);
      const second = await client.next();
      expect(second?.msg.subarray(0, 4)).toEqual(Buffer.from('00030002', 'hex'));
      expect(second?.rinfo.port).toBe(tid);
      await client.send(Buffer.from('000500004e6f20737061636500', 'hex'), tid); // ERROR 0 "No space"
    } finally {
      await client.close();
      await stranger.close();
    }
  });

  it('replaces a running transfer when the same port asks again with other options (a client restarted on a reused port)', async () => {
    const client = await UdpProbe.open();
    try {
      await client.send(requestBytes(1, 'big.bin', 'octet', { windowsize: '4' }), server.port);
      const old = await client.next();
      expect(old?.msg.toString('hex')).toBe('0006' + Buffer.from('windowsize\x004\x00').toString('hex'));
      // No ACK 0, no ERROR: the old transfer is still waiting when the new request comes.
      await client.send(requestBytes(1, 'big.bin', 'octet', { blksize: '1468' }), server.port);
      const fresh = await client.next(500);
      expect(fresh?.msg.toString('hex')).toBe('0006' + Buffer.from('blksize\x001468\x00').toString('hex'));
      expect(fresh?.rinfo.port).not.toBe(old?.rinfo.port);
      await client.send(Buffer.from('0005000000', 'hex'), fresh!.rinfo.port);
    } finally {
      await client.close();
    }
  });

  it('starts over at once when a client aborts after the OACK and asks again from the same port (PXE ROMs)', async () => {
    const client = await UdpProbe.open();
    try {
      await client.send(requestBytes(1, 'big.bin', 'octet', { tsize: '0' }), server.port);
      const oack = await client.next();
      expect(oack?.msg.toString('hex')).toBe('0006' + Buffer.from('tsize\x00300000\x00').toString('hex'));
      await client.send(Buffer.from('0005000800', 'hex'), oack!.rinfo.port); // ERROR 8, empty message
      await client.send(requestBytes(1, 'big.bin', 'octet', { blksize: '1468' }), server.port);
      const again = await client.next(500);
      expect(again?.msg.toString('hex')).toBe('0006' + Buffer.from('blksize\x001468\x00').toString('hex'));
      expect(again?.rinfo.port).not.toBe(oack?.rinfo.port);
      await client.send(Buffer.from('0005000000', 'hex'), again!.rinfo.port);
    } finally {
      await client.close();
    }
  });

  it('drops bad packets on the listening port and keeps serving', async () => {
    const probe = await UdpProbe.open();
    try {
      for (const bad of ['', '00', '0001', '00016100', '0003000141', '0004ffff', '0009', 'ffffffff']) {
        await probe.send(Buffer.from(bad, 'hex'), server.port);
      }
      expect(await probe.next(300)).toBeUndefined();
      expect(records.some((r) => r.event === 'tftp.bad_packet' && typeof r.peer === 'string')).toBe(true);
      expect((await tftpGet(server.port, 'exact.bin')).data.length).toBe(1024);
    } finally {
      await probe.close();
    }
  });

  it('retransmits on timeout and gives up after the retry limit', async () => {
    const probe = await UdpProbe.open();
    try {
      const before = counter('timeout');
      await probe.send(requestBytes(1, 'big.bin', 'octet', { timeout: '1' }), server.port);
      const oack = await probe.next();
      expect(oack?.msg.toString('hex')).toBe('0006' + Buffer.from('timeout\x001\x00').toString('hex'));
      const again = await probe.next(1500);
      expect(again?.msg).toEqual(oack?.msg);
      const deadline = Date.now() + 8000;
      while (counter('timeout') === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(counter('timeout')).toBe(before + 1);
      expect(metrics.gauge('trowel_tftp_active_transfers', '').get()).toBe(0);
    } finally {
      await probe.close();
    }
  }, 15_000);

  it('renders its metrics in the Prometheus text format', () => {
    const text = metrics.render();
    expect(text).toMatch(/^trowel_tftp_transfers_total\{result="ok"\} \d+$/m);
    expect(text).toMatch(/^trowel_tftp_transfers_total\{result="refused"\} \d+$/m);
    expect(text).toMatch(/^trowel_tftp_bytes_total \d+$/m);
    expect(text).toMatch(/^trowel_tftp_active_transfers 0$/m);
  });
});

describe('startTftpServer errors', () => {
  const options = { port: 0, bindAddress: '127.0.0.1', metrics: new MetricsRegistry(), log: createLogger('t', () => {}) };

  it('refuses a missing root, bad limits and a port in use with a TrowelError', async () => {
    await expect(startTftpServer({ ...options, root: '/nonexistent/trowel' })).rejects.toThrow(/^Cannot start TFTP server: root \/nonexistent\/trowel is not readable \(ENOENT\)$/);
    await expect(startTftpServer({ ...options, root: tmpdir(), maxBlockSize: 7 })).rejects.toThrow(/maxBlockSize must be an integer from 8 to 65464/);
    await expect(startTftpServer({ ...options, root: tmpdir(), maxWindowSize: 0 })).rejects.toBeInstanceOf(TrowelError);
    const first = await startTftpServer({ ...options, root: tmpdir() });
    try {
      await expect(startTftpServer({ ...options, root: tmpdir(), port: first.port })).rejects.toThrow(/^Cannot listen for TFTP on 127\.0\.0\.1:\d+: EADDRINUSE$/);
    } finally {
      await first.close();
    }
  });

  it('close() ends transfers in progress and frees the port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trowel-tftp-close-'));
    await writeFile(join(dir, 'f'), bytesOf(10_000));
    const metrics = new MetricsRegistry();
    const server = await startTftpServer({ ...options, metrics, root: dir });
    const probe = await UdpProbe.open();
    try {
      await probe.send(requestBytes(1, 'f'), server.port);
      expect((await probe.next())?.msg.readUInt16BE(0)).toBe(3);
      expect(metrics.gauge('trowel_tftp_active_transfers', '').get()).toBe(1);
      await server.close();
      expect(metrics.gauge('trowel_tftp_active_transfers', '').get()).toBe(0);
      const again = await startTftpServer({ ...options, root: dir, port: server.port });
      await again.close();
    } finally {
      await probe.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
