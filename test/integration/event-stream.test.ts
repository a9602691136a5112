/**
 * The live event stream through the real node:http server: a WebSocket
 * client on loopback sees the snapshot, a machine's own step events as it
 * posts them with its token (and nothing from a forged post), the counters
 * moving with real requests, and a clean close when the server stops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parseConfig } from '../../src/config/index.ts';
import type { StreamMessage } from '../../src/http/event-stream-messages.ts';
import { loadOrCreateAdminToken, startHttpServer, type HttpServer } from '../../src/http/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { EventStore, MachineStore, openDatabase, type Database } from '../../src/store/index.ts';

const MAC = '52:54:00:12:34:01';
let dir: string;
let db: Database;
let machines: MachineStore;
let server: HttpServer;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trowel-event-stream-'));
  const config = parseConfig(`listen: { address: 127.0.0.1 }\nstateDir: ${JSON.stringify(dir)}\n`, join(dir, 'trowel.yaml'));
  db = openDatabase(join(dir, 'trowel.db'));
  machines = new MachineStore(db);
  server = await startHttpServer({
    config, machines, events: new EventStore(db), metrics: new MetricsRegistry(), log: silentLogger,
    adminToken: loadOrCreateAdminToken(dir), bindAddress: '127.0.0.1', port: 0,
  });
  url = `127.0.0.1:${server.port}`;
  // The machine registers the way firmware does: by asking for its boot script.
  expect(await (await fetch(`http://${url}/boot/ipxe?mac=${MAC}`)).text()).toContain(`trowel.mac=${MAC}`);
});

afterAll(async () => {
  await server?.close();
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function client() {
  const ws = new WebSocket(`ws://${url}/api/v1/events`);
  const messages: StreamMessage[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as StreamMessage));
  const waitFor = async <T extends StreamMessage>(pred: (m: StreamMessage) => m is T): Promise<T> => {
    await expect.poll(() => messages.some(pred), { timeout: 5000 }).toBe(true);
    return messages.find(pred)!;
  };
  return { ws, messages, waitFor };
}

/** A JSON body for events, plain text for log lines. */
function post(path: string, token: string, body: unknown): Promise<Response> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return fetch(`http://${url}/api/v1/machines/${MAC}/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: text });
}

const is = <K extends StreamMessage['type']>(type: K) => (m: StreamMessage): m is Extract<StreamMessage, { type: K }> => m.type === type;

describe('GET /api/v1/events over a real server', () => {
  it('streams a machine’s provisioning as it posts it, and the counters', async () => {
    const c = client();
    const snapshot = await c.waitFor(is('snapshot'));
    expect(snapshot.machines).toEqual([expect.objectContaining({ mac: MAC, state: 'new', step: null })]);
    const token = machines.get(MAC)!.token;
    expect(JSON.stringify(snapshot)).not.toContain(token);

    const forged = await post('events', 'not-the-machine-token', { step: 'receive', state: 'started' });
    expect(forged.status).toBe(403);
    const ok = await post('events', token, { step: 'receive', state: 'progress', bytes: 3 * 2 ** 20, totalBytes: 12 * 2 ** 20, rate: 2 ** 20 });
    expect(ok.status).toBe(201);
    const row = await c.waitFor((m): m is Extract<StreamMessage, { type: 'machine' }> => m.type === 'machine' && m.machine.step === 'receive');
    expect(row.machine).toMatchObject({ state: 'provisioning:receive', stepState: 'progress', progress: 0.25, rate: 2 ** 20 });
    const events = c.messages.filter(is('event'));
    expect(events).toHaveLength(1);
    expect(events[0]!.event).toMatchObject({ mac: MAC, kind: 'step', step: 'receive', state: 'progress' });

    expect((await post('log', token, 'receiving 12 MiB\n')).status).toBe(201);
    await c.waitFor((m): m is Extract<StreamMessage, { type: 'event' }> => m.type === 'event' && m.event.line === 'receiving 12 MiB');

    // The requests above were counted; the next tick says so.
    const counters = await c.waitFor((m): m is Extract<StreamMessage, { type: 'counters' }> => m.type === 'counters' && m.counters.http.requests >= 4);
    expect(counters.counters.http.bytes).toBeGreaterThan(0);
    c.ws.terminate();
  });

  it('answers a plain GET with 426 and says how to connect', async () => {
    const res = await fetch(`http://${url}/api/v1/events`);
    expect(res.status).toBe(426);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('connect with a WebSocket');
  });

  it('closes followers with 1001 when the server stops', async () => {
    const c = client();
    await c.waitFor(is('snapshot'));
    const closed = new Promise<number>((ok) => c.ws.on('close', (code) => ok(code)));
    const started = Date.now();
    await server.close();
    expect(await closed).toBe(1001);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
