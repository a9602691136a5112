import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.ts';
import { McastSessions, type RunSender } from '../../mcast-server/index.ts';
import type { TemplatePool } from '../../pool/index.ts';
import type { CachedStream } from '../../stream/cache.ts';
import { createHttpApp } from '../app.ts';
import { ADMIN_TOKEN, makeFixture, type Fixture } from '../test-fixture.ts';

const MAC = '52:54:00:00:00:01';
const NAME = 'org.example.Desktop';
const V1 = '20260101T000000Z';

/** A sender that sends nothing and ends when the session is cancelled. */
const idleSender: RunSender = (_plan, hooks) => new Promise((_resolve, reject) => hooks.signal.addEventListener('abort', () => reject(new Error('stopped'))));

function setup(enabled = true): { f: Fixture; sessions: McastSessions; call: (method: string, path: string, body?: unknown, token?: string) => Promise<Response> } {
  const f = makeFixture();
  const config = parseConfig(`listen: { address: 10.0.0.1 }\nmcast: { enabled: ${enabled}, window: 5s }\n`).mcast;
  const streams = { ensure: async () => ({ file: '/cache/x.zst', signed: { manifest: { sha256: 'cd'.repeat(32), compressedSize: 4096 } } }) as unknown as CachedStream };
  const sessions = new McastSessions({ config, interfaceAddress: '10.0.0.1', streams, runSender: idleSender, metrics: f.metrics });
  const pool = { get: async (name: string, _arch: string, version: string) => (name === NAME && (version === V1 || version === 'latest') ? { name, version: V1 } : undefined) } as unknown as TemplatePool;
  const app = createHttpApp({ ...f.options, pool, mcast: sessions });
  const call = (method: string, path: string, body?: unknown, token?: string) => app.fetch(new Request(`http://10.0.0.1:8080${path}`, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  }));
  return { f, sessions, call };
}

describe('multicast routes', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('hands a machine its session and key only with its own token, and logs it as a machine event', async () => {
    const { f, sessions, call } = setup();
    cleanup = async () => (await sessions.close(), f.cleanup());
    const token = f.machines.recordContact({ mac: MAC }).token;
    const other = f.machines.recordContact({ mac: '52:54:00:00:00:02' }).token;
    const path = `/api/v1/machines/${MAC}/multicast`;
    expect((await call('POST', path, { name: NAME, arch: 'x86_64', version: V1 })).status).toBe(401);
    expect((await call('POST', path, { name: NAME, arch: 'x86_64', version: V1 }, other)).status).toBe(403);
    const res = await call('POST', path, { name: NAME, arch: 'x86_64', version: 'latest', parent: null }, token);
    expect(res.status).toBe(200);
    const offer = (await res.json()) as Record<string, unknown>;
    expect(offer).toMatchObject({ role: 'receiver', group: '239.255.84.1', port: 9000, state: 'gathering', sha256: 'cd'.repeat(32), totalBytes: 4096, yourAddress: 'in-process' });
    expect(Buffer.from(offer.key as string, 'base64')).toHaveLength(32);
    const events = (await (await f.get(`/api/v1/machines/${MAC}/events`)).json()) as { events: { line?: string }[] };
    expect(events.events.at(-1)!.line).toMatch(new RegExp(`^multicast: session ${offer.sessionId as number} on 239\\.255\\.84\\.1:9000 as receiver, sending in [45] s$`));

    // The open views list the session, never its key.
    const list = await (await call('GET', '/api/v1/multicast/sessions')).text();
    expect(list).toContain(`"sessionId":${offer.sessionId as number}`);
    expect(list).toContain(`"machines":["${MAC}"]`);
    expect(list).not.toContain(offer.key as string);
    const one = (await (await call('GET', `/api/v1/multicast/sessions/${offer.sessionId as number}`)).json()) as { session: { state: string } };
    expect(one.session.state).toBe('gathering');
    expect((await call('GET', '/api/v1/multicast/sessions/7')).status).toBe(404);
    expect((await call('GET', '/api/v1/multicast/sessions/x')).status).toBe(400);

    // The admin may ask for any MAC (a receive by hand); it joins the same session.
    const byAdmin = (await (await call('POST', '/api/v1/machines/52:54:00:00:00:09/multicast', { name: NAME, arch: 'x86_64', version: V1 }, ADMIN_TOKEN)).json()) as { sessionId: number };
    expect(byAdmin.sessionId).toBe(offer.sessionId);
  });

  it('refuses bad names and unknown versions', async () => {
    const { f, sessions, call } = setup();
    cleanup = async () => (await sessions.close(), f.cleanup());
    const token = f.machines.recordContact({ mac: MAC }).token;
    const bad = await call('POST', `/api/v1/machines/${MAC}/multicast`, { name: '../etc', arch: 'x86_64', version: V1 }, token);
    expect(bad.status).toBe(400);
    const missing = await call('POST', `/api/v1/machines/${MAC}/multicast`, { name: NAME, arch: 'x86_64', version: '20250101T000000Z' }, token);
    expect(missing.status).toBe(404);
  });

  it('answers 409 multicast_disabled when multicast is off, so machines fall back to HTTP', async () => {
    const { f, sessions, call } = setup(false);
    cleanup = async () => f.cleanup();
    const token = f.machines.recordContact({ mac: MAC }).token;
    const res = await call('POST', `/api/v1/machines/${MAC}/multicast`, { name: NAME, arch: 'x86_64', version: V1 }, token);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('multicast_disabled');
    expect(await (await call('GET', '/api/v1/multicast/sessions')).json()).toEqual({ enabled: false, sessions: [] });
    expect(sessions.list()).toEqual([]);
  });

  it('starts an admin session with the admin token only, then answers the live one', async () => {
    const { f, sessions, call } = setup();
    cleanup = async () => (await sessions.close(), f.cleanup());
    const body = { name: NAME, arch: 'x86_64', version: V1, minReceivers: 3, maxWait: '30s', rate: '100M' };
    expect((await call('POST', '/api/v1/multicast/sessions', body)).status).toBe(401);
    const res = await call('POST', '/api/v1/multicast/sessions', body, ADMIN_TOKEN);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ existing: false, session: { origin: 'admin', state: 'sending', rateCapBitsPerSecond: 1e8 } });
    const again = await call('POST', '/api/v1/multicast/sessions', { name: NAME, arch: 'x86_64', version: V1 }, ADMIN_TOKEN);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { existing: boolean }).existing).toBe(true);
    expect((await call('POST', '/api/v1/multicast/sessions', { ...body, rate: 'fast' }, ADMIN_TOKEN)).status).toBe(400);
    expect((await call('POST', '/api/v1/multicast/sessions', { ...body, minReceivers: 0 }, ADMIN_TOKEN)).status).toBe(400);
  });

  it('lets only the tee machine report on its session', async () => {
    const { f, sessions, call } = setup();
    cleanup = async () => (await sessions.close(), f.cleanup());
    const token = f.machines.recordContact({ mac: MAC }).token;
    const other = f.machines.recordContact({ mac: '52:54:00:00:00:02' }).token;
    const offer = (await (await call('POST', `/api/v1/machines/${MAC}/multicast`, { name: NAME, arch: 'x86_64', version: V1, tee: true }, token)).json()) as { sessionId: number; role: string };
    expect(offer.role).toBe('sender');
    const joined = (await (await call('POST', `/api/v1/machines/52:54:00:00:00:02/multicast`, { name: NAME, arch: 'x86_64', version: V1 }, other)).json()) as { sessionId: number; role: string };
    expect(joined).toMatchObject({ sessionId: offer.sessionId, role: 'receiver' });
    expect((await call('PUT', `/api/v1/machines/52:54:00:00:00:02/multicast/${offer.sessionId}`, { bytesSent: 1 }, other)).status).toBe(404);
    const res = await call('PUT', `/api/v1/machines/${MAC}/multicast/${offer.sessionId}`, { state: 'done', bytesSent: 4096, completed: 1 }, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ session: { state: 'done', progress: 1, completed: 1, origin: 'tee' } });
  });

  it('matches machines to a tee by the address they name, and refuses one that is not IPv4', async () => {
    const { f, sessions, call } = setup();
    cleanup = async () => (await sessions.close(), f.cleanup());
    const [tee, near, far] = ['01', '02', '03'].map((n) => f.machines.recordContact({ mac: `52:54:00:00:00:${n}` }).token);
    const ask = async (n: string, token: string, extra: object) =>
      (await (await call('POST', `/api/v1/machines/52:54:00:00:00:${n}/multicast`, { name: NAME, arch: 'x86_64', version: V1, ...extra }, token)).json()) as Record<string, unknown>;
    const sending = await ask('01', tee!, { tee: true, address: '192.168.7.20' });
    expect(sending).toMatchObject({ role: 'sender', senderAddress: '192.168.7.20' });
    expect(await ask('02', near!, { address: '192.168.7.21' })).toMatchObject({ role: 'receiver', sessionId: sending.sessionId, senderAddress: '192.168.7.20' });
    const elsewhere = await ask('03', far!, { address: '192.168.8.21' });
    expect(elsewhere).toMatchObject({ role: 'receiver', senderAddress: '10.0.0.1' });
    expect(elsewhere.sessionId).not.toBe(sending.sessionId);
    const bad = await call('POST', `/api/v1/machines/52:54:00:00:00:03/multicast`, { name: NAME, arch: 'x86_64', version: V1, address: '../../etc/passwd' }, far);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('"address" must be an IPv4 address');
  });
});
