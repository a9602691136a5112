import { createServer, type Server } from 'node:http';
import { connect as connectTcp, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { silentLogger } from '../log/logger.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { EventKind, EventStore, MachineStore, openDatabase } from '../store/index.ts';
import type { StreamMessage } from './event-stream-messages.ts';
import { EventStream, type EventStreamOptions } from './event-stream.ts';
import { ADMIN_TOKEN, makeFixture } from './test-fixture.ts';

const MAC = '52:54:00:00:00:01';

/** A stream behind a real loopback server, and a client that collects messages. */
async function setup(options: Partial<EventStreamOptions> = {}) {
  const db = openDatabase(':memory:');
  const machines = new MachineStore(db);
  const events = new EventStore(db);
  const metrics = new MetricsRegistry();
  machines.recordContact({ mac: MAC, hostname: 'node1', ip: '10.0.0.101' });
  events.append(MAC, EventKind.step, { step: 'partition', state: 'done' });
  const stream = new EventStream({ machines, events, metrics, log: silentLogger, tickMs: 50, ...options });
  const server: Server = createServer((_req, res) => res.end('plain'));
  server.on('upgrade', (req, socket, head) => stream.handleUpgrade(req, socket, head));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    stream.close();
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    db.close();
  });
  return { machines, events, metrics, stream, port };
}

function connect(port: number, path = '/api/v1/events') {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  const messages: StreamMessage[] = [];
  ws.on('error', () => {}); // refused connections are asserted through 'unexpected-response' and 'close'
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as StreamMessage));
  cleanups.push(async () => ws.terminate());
  const next = async (pred: (m: StreamMessage) => boolean, timeoutMs = 3000): Promise<StreamMessage> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such message; got ${JSON.stringify(messages.map((m) => m.type))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { ws, messages, next };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('EventStream', () => {
  it('sends a snapshot first: machines with their latest step, recent events, counters', async () => {
    const { port } = await setup();
    const { next, messages } = connect(port);
    const snap = await next((m) => m.type === 'snapshot');
    expect(messages[0]).toBe(snap);
    if (snap.type !== 'snapshot') throw new Error('unreachable');
    expect(snap.machines).toEqual([expect.objectContaining({ mac: MAC, hostname: 'node1', step: 'partition', stepState: 'done', progress: 1 })]);
    expect(snap.events).toEqual([expect.objectContaining({ mac: MAC, kind: 'step', step: 'partition', state: 'done' })]);
    expect(snap.counters.http).toEqual({ requests: 0, bytes: 0 });
  });

  it('sends each stored event, then the machine row with the state the event caused', async () => {
    const { port, machines, events } = await setup();
    const { next, messages } = connect(port);
    await next((m) => m.type === 'snapshot');
    // What the POST events route does, synchronously: store, then set the state.
    events.append(MAC, EventKind.step, { step: 'receive', state: 'progress', bytes: 50, totalBytes: 200, rate: 1000 });
    machines.setState(MAC, 'provisioning:receive');
    const row = await next((m) => m.type === 'machine');
    const kinds = messages.map((m) => m.type).filter((t) => t !== 'counters');
    expect(kinds).toEqual(['snapshot', 'event', 'machine']);
    expect(row).toMatchObject({ machine: { mac: MAC, state: 'provisioning:receive', step: 'receive', progress: 0.25, rate: 1000 } });
    events.append(MAC, EventKind.log, { line: 'receiving' });
    expect(await next((m) => m.type === 'event' && m.event.kind === 'log')).toMatchObject({ event: { mac: MAC, line: 'receiving' } });
  });

  it('sends counters every tick and rows changed outside events (a new machine)', async () => {
    const { port, machines, metrics } = await setup();
    const { next } = connect(port);
    await next((m) => m.type === 'snapshot');
    metrics.counter('trowel_http_requests_total', 'x').inc({ route: '/boot/ipxe', status: '200' }, 3);
    machines.recordContact({ mac: '52:54:00:00:00:02' });
    expect(await next((m) => m.type === 'counters' && m.counters.http.requests === 3)).toBeTruthy();
    expect(await next((m) => m.type === 'machine' && m.machine.mac === '52:54:00:00:00:02')).toMatchObject({ machine: { state: 'new', step: null } });
  });

  it('does not resend a row whose only change is lastSeen', async () => {
    const { port, machines } = await setup();
    const { next, messages } = connect(port);
    await next((m) => m.type === 'snapshot');
    await new Promise((r) => setTimeout(r, 20));
    machines.recordContact({ mac: MAC });
    await next((m) => m.type === 'counters');
    await next((m) => messages.filter((x) => x.type === 'counters').length >= 3 && m.type === 'counters');
    expect(messages.filter((m) => m.type === 'machine')).toEqual([]);
  });

  it('refuses other paths with 404 and clients over the limit with 1013', async () => {
    const { port, stream } = await setup({ maxClients: 1 });
    const wrong = connect(port, '/api/v1/elsewhere');
    const status = await new Promise<number>((ok) => wrong.ws.on('unexpected-response', (_req, res) => ok(res.statusCode ?? 0)));
    expect(status).toBe(404);
    const first = connect(port);
    await first.next((m) => m.type === 'snapshot');
    const second = connect(port);
    const code = await new Promise<number>((ok) => second.ws.on('close', (c) => ok(c)));
    expect(code).toBe(1013);
    await expect.poll(() => stream.clients).toBe(1);
  });

  it('survives a client that resets the connection after its 404', async () => {
    const { port } = await setup();
    for (let i = 0; i < 20; i++) {
      const client = connectTcp(port);
      client.write('GET /api/v1/elsewhere HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n');
      const answer = await new Promise<string>((ok) => client.once('data', (d) => ok(String(d))));
      expect(answer).toMatch(/^HTTP\/1.1 404 /);
      client.resetAndDestroy(); // RST while the server's side is still open for reading
    }
    // An unhandled ECONNRESET would have ended the process; the server still answers.
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe('plain');
  });

  it('closes clients with 1001 when the server stops', async () => {
    const { port, stream } = await setup();
    const { ws, next } = connect(port);
    await next((m) => m.type === 'snapshot');
    const closed = new Promise<number>((ok) => ws.on('close', (c) => ok(c)));
    stream.close();
    expect(await closed).toBe(1001);
  });

  it('cuts off a client that stops reading', async () => {
    const { port, stream, events } = await setup({ maxBufferedBytes: 64 * 1024 });
    const { ws, next } = connect(port);
    await next((m) => m.type === 'snapshot');
    // Stop reading: the kernel buffers fill, then ws buffers, then the stream gives up on this client.
    (ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const big = 'x'.repeat(3000);
    for (let i = 0; i < 5000 && stream.clients > 0; i++) {
      events.append(MAC, EventKind.log, { line: big });
      await new Promise((r) => setImmediate(r));
    }
    expect(stream.clients).toBe(0);
  });
});

describe('GET /api/v1/events without an upgrade', () => {
  it('answers 426 with the Upgrade header', async () => {
    const f = makeFixture();
    try {
      const res = await f.get('/api/v1/events', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(426);
      expect(res.headers.get('upgrade')).toBe('websocket');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upgrade_required');
    } finally {
      f.cleanup();
    }
  });
});
