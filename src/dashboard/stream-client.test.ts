import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { EventStream } from '../http/event-stream.ts';
import type { StreamMessage } from '../http/event-stream-messages.ts';
import { silentLogger } from '../log/logger.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { EventStore, MachineStore, openDatabase } from '../store/index.ts';
import { eventStreamUrl, followEventStream, type StreamClient } from './stream-client.ts';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A server with a real event stream on `port` (0: any); stop() is a server going down. */
async function streamServer(port = 0, onUpgrade?: (server: Server) => void) {
  const db = openDatabase(':memory:');
  const machines = new MachineStore(db);
  machines.recordContact({ mac: '52:54:00:00:00:01' });
  const stream = new EventStream({ machines, events: new EventStore(db), metrics: new MetricsRegistry(), log: silentLogger, tickMs: 50 });
  const server = createServer((_q, r) => r.end());
  if (onUpgrade) onUpgrade(server);
  else server.on('upgrade', (req, socket, head) => stream.handleUpgrade(req, socket, head));
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  const stop = async () => {
    stream.close();
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    db.close();
  };
  return { port: (server.address() as AddressInfo).port, stop };
}

function follow(port: number, silenceMs = 10_000) {
  const log: string[] = [];
  const messages: StreamMessage[] = [];
  const client: StreamClient = followEventStream({
    server: `http://127.0.0.1:${port}`,
    backoff: { baseMs: 50, capMs: 200 },
    silenceMs,
    onOpen: () => log.push('open'),
    onMessage: (m) => {
      messages.push(m);
      if (m.type === 'snapshot') log.push('snapshot');
    },
    onDown: (attempt, error) => log.push(`down ${attempt} ${error}`),
  });
  cleanups.push(() => client.close());
  return { log, messages };
}

describe('eventStreamUrl', () => {
  it('maps http to ws and https to wss, keeping host and port', () => {
    expect(eventStreamUrl('http://10.0.0.1:8080')).toBe('ws://10.0.0.1:8080/api/v1/events');
    expect(eventStreamUrl('https://trowel.example/')).toBe('wss://trowel.example/api/v1/events');
  });

  it('refuses what is not an http(s) URL, as a usage error', () => {
    expect(() => eventStreamUrl('ftp://10.0.0.1')).toThrow(/is not an http:\/\/ or https:\/\/ URL/);
    expect(() => eventStreamUrl('10.0.0.1:8080')).toThrow(/Cannot follow the event stream/);
    expect(() => eventStreamUrl('not a url')).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
  });
});

describe('followEventStream', () => {
  it('gets the snapshot, then follows the server through a restart on the same port', async () => {
    const first = await streamServer();
    const { log } = follow(first.port);
    await expect.poll(() => log).toEqual(['open', 'snapshot']);
    await first.stop();
    await expect.poll(() => log.some((l) => l.startsWith('down 1'))).toBe(true);
    // Nothing listens: refused, and retried.
    await expect.poll(() => log.some((l) => /^down \d+ ECONNREFUSED$/.test(l))).toBe(true);
    const second = await streamServer(first.port);
    cleanups.push(second.stop);
    await expect.poll(() => log.slice(-2), { timeout: 5000 }).toEqual(['open', 'snapshot']);
    expect(log[2]).toBe('down 1 server stopped');
  });

  it('says so when the server has no event stream', async () => {
    const old = await streamServer(0, (server) => server.on('upgrade', (_req, socket) => socket.on('error', () => {}).end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n')));
    cleanups.push(old.stop);
    const { log } = follow(old.port);
    await expect.poll(() => log[0]).toBe('down 1 server answered 404 (no event stream there)');
  });

  it('drops a connection that goes silent and tries again', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const silent = await streamServer(0, (server) => server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => {})));
    cleanups.push(silent.stop, () => {
      for (const ws of wss.clients) ws.terminate();
    });
    const { log } = follow(silent.port, 200);
    await expect.poll(() => log.slice(0, 2)).toEqual(['open', 'down 1 connection lost']);
    await expect.poll(() => log.filter((l) => l === 'open').length).toBeGreaterThan(1);
  });
});
