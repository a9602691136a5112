import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.ts';
import { startHttpServer, type HttpServer } from '../http/index.ts';
import { ADMIN_TOKEN, makeFixture, type Fixture } from '../http/test-fixture.ts';
import { McastSessions, type RunSender } from '../mcast-server/index.ts';
import type { TemplatePool } from '../pool/index.ts';
import type { CachedStream } from '../stream/cache.ts';
import { reportTee, requestOffer } from './offer.ts';

const NAME = 'org.example.Desktop';
const V1 = '20260101T000000Z';
const MAC = '52:54:00:00:00:01';
const idle: RunSender = (_plan, hooks) => new Promise((_resolve, reject) => hooks.signal.addEventListener('abort', () => reject(new Error('stopped'))));

describe('requestOffer against a real server', () => {
  let f: Fixture;
  const servers: HttpServer[] = [];
  const sessions: McastSessions[] = [];
  let on: string;
  let off: string;
  let token: string;

  async function serve(enabled: boolean): Promise<string> {
    const config = parseConfig(`listen: { address: 10.0.0.1 }\nmcast: { enabled: ${enabled}, window: 2s }\n`).mcast;
    const streams = { ensure: async () => ({ file: '/x.zst', signed: { manifest: { sha256: 'ef'.repeat(32), compressedSize: 99 } } }) as unknown as CachedStream };
    const mcast = new McastSessions({ config, interfaceAddress: '10.0.0.1', streams, runSender: idle, metrics: f.metrics });
    sessions.push(mcast);
    const pool = { get: async (name: string, _a: string, version: string) => (name === NAME ? { name, version: version === 'latest' ? V1 : version } : undefined) } as unknown as TemplatePool;
    const server = await startHttpServer({ ...f.options, pool, mcast, bindAddress: '127.0.0.1', port: 0 });
    servers.push(server);
    return `http://127.0.0.1:${server.port}`;
  }

  beforeAll(async () => {
    f = makeFixture();
    token = f.machines.recordContact({ mac: MAC }).token;
    on = await serve(true);
    off = await serve(false);
  });

  afterAll(async () => {
    for (const s of sessions) await s.close();
    for (const s of servers) await s.close();
    f.cleanup();
  });

  const ask = (server: string, t = token, tee = false) => requestOffer({ server, mac: MAC, token: t, name: NAME, arch: 'x86_64', version: V1, parent: null, tee });

  it('parses an offer: the key as 32 bytes, the endpoint, the gathering time', async () => {
    const answer = await ask(on);
    expect(answer.kind).toBe('offer');
    if (answer.kind !== 'offer') return;
    expect(answer.offer).toMatchObject({ role: 'receiver', group: '239.255.84.1', port: 9000, sha256: 'ef'.repeat(32), totalBytes: 99, yourAddress: '127.0.0.1' });
    expect(answer.offer.key).toHaveLength(32);
    expect(answer.offer.startsInMs).toBeGreaterThan(0);
  });

  it('says "unavailable" with the reason when multicast is off, so the caller falls back to HTTP', async () => {
    expect(await ask(off)).toEqual({ kind: 'unavailable', reason: 'multicast is off on this server (mcast.enabled in trowel.yaml)' });
  });

  it('refuses a wrong token with one sentence', async () => {
    await expect(ask(on, 'not-the-token')).rejects.toMatchObject({ code: 'EFORBIDDEN', message: expect.stringMatching(/^Cannot ask for a multicast session: server says 403 \(forbidden\)/) });
  });

  it('a tee gets the sender role, even beside a server session; its first report starts the session', async () => {
    const mac = '52:54:00:00:00:02';
    const teeToken = f.machines.recordContact({ mac }).token;
    const tee = await requestOffer({ server: on, mac, token: teeToken, name: NAME, arch: 'x86_64', version: V1, parent: null, tee: true });
    if (tee.kind !== 'offer') throw new Error('no offer');
    expect(tee.offer).toMatchObject({ role: 'sender', sender: mac, state: 'gathering' });
    // A machine asking now gets the tee's session, the admin too.
    const admin = await requestOffer({ server: on, mac: '52:54:00:00:00:03', token: ADMIN_TOKEN, name: NAME, arch: 'x86_64', version: V1, parent: null });
    expect(admin.kind === 'offer' && admin.offer.sessionId).toBe(tee.offer.sessionId);
    expect(await reportTee({ server: on, mac, token: teeToken }, tee.offer.sessionId, { state: 'sending' })).toEqual({ machines: [mac, '52:54:00:00:00:03'] });
    await expect(reportTee({ server: on, mac: MAC, token }, tee.offer.sessionId, { state: 'done' })).rejects.toThrow(/server says 404/);
  });
});
