import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeFixture, type Fixture } from '../test-fixture.ts';

const MAC = '52:54:00:00:00:01';
const OTHER = '52:54:00:00:00:02';
let f: Fixture;
let token: string;
let otherToken: string;
beforeEach(() => {
  f = makeFixture();
  token = f.machines.recordContact({ mac: MAC }).token;
  otherToken = f.machines.recordContact({ mac: OTHER }).token;
});
afterEach(() => f.cleanup());

function send(method: string, path: string, body: unknown, auth?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' };
  if (auth) headers.authorization = `Bearer ${auth}`;
  return f.get(path, { method, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe('PUT/GET /api/v1/machines/<mac>/plan', () => {
  it('stores a plan from the admin, sets action provision, and lets the machine read it', async () => {
    const put = await send('PUT', `/api/v1/machines/${MAC}/plan`, { template: 'org.example.Desktop', wipe: true, hostname: 'node1' }, ADMIN_TOKEN);
    expect(put.status).toBe(200);
    expect(f.machines.get(MAC)).toMatchObject({ action: 'provision', state: 'planned' });
    const got = await f.get(`/api/v1/machines/${MAC}/plan`, { headers: { authorization: `Bearer ${token}` } });
    expect(await got.json()).toEqual({ plan: { template: 'org.example.Desktop', wipe: true, hostname: 'node1' } });
  });

  it('refuses a plan without the admin token, a bad plan, and readers with another machine\'s token', async () => {
    expect((await send('PUT', `/api/v1/machines/${MAC}/plan`, { template: 'org.example.Desktop' })).status).toBe(401);
    expect((await send('PUT', `/api/v1/machines/${MAC}/plan`, { template: 'org.example.Desktop' }, token)).status).toBe(403);
    const bad = await send('PUT', `/api/v1/machines/${MAC}/plan`, { template: '../../etc/passwd' }, ADMIN_TOKEN);
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('invalid_plan');
    expect((await f.get(`/api/v1/machines/${MAC}/plan`, { headers: { authorization: `Bearer ${otherToken}` } })).status).toBe(403);
    expect((await f.get(`/api/v1/machines/${MAC}/plan`)).status).toBe(401);
  });
});

describe('PUT a plan for a machine never seen', () => {
  it('registers it, so it is planned before its first boot', async () => {
    const res = await send('PUT', '/api/v1/machines/52:54:00:00:00:77/plan', { template: 'org.example.Desktop' }, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect(f.machines.get('52:54:00:00:00:77')).toMatchObject({ action: 'provision', plan: { template: 'org.example.Desktop' } });
  });
});

describe('POST /api/v1/machines/<mac>/events', () => {
  it('records steps in order, tracks the state, and marks the machine deployed and local at the end', async () => {
    for (const [step, state] of [['partition', 'started'], ['receive', 'progress'], ['complete', 'done'], ['reboot', 'started']] as const) {
      const res = await send('POST', `/api/v1/machines/${MAC}/events`, { step, state, bytes: 10 }, token);
      expect(res.status).toBe(201);
    }
    expect(f.machines.get(MAC)).toMatchObject({ state: 'deployed', action: 'local' });
    const list = (await (await f.get(`/api/v1/machines/${MAC}/events`)).json()) as { events: { step: string; state: string; kind: string }[] };
    expect(list.events.map((e) => `${e.step}:${e.state}`)).toEqual(['partition:started', 'receive:progress', 'complete:done', 'reboot:started']);
  });

  it('records a failure as failed:<step> without changing the action', async () => {
    await send('POST', `/api/v1/machines/${MAC}/events`, { step: 'partition', state: 'failed', error: 'disk holds data' }, token);
    expect(f.machines.get(MAC)).toMatchObject({ state: 'failed:partition', action: 'discover' });
  });

  it('lets a machine report only about itself, and refuses malformed events', async () => {
    expect((await send('POST', `/api/v1/machines/${MAC}/events`, { step: 'complete', state: 'done' }, otherToken)).status).toBe(403);
    expect(f.machines.get(MAC)?.state).toBe('new');
    const bad = await send('POST', `/api/v1/machines/${MAC}/events`, { step: 'format-c', state: 'done' }, token);
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('invalid_event');
    expect((await send('POST', `/api/v1/machines/${MAC}/events`, { step: 'receive', state: 'progress', bytes: -1 }, token)).status).toBe(400);
    expect((await send('POST', `/api/v1/machines/${MAC}/events`, '{not json', token)).status).toBe(400);
  });
});

describe('POST /api/v1/machines/<mac>/log', () => {
  it('stores non-empty lines as log events', async () => {
    const res = await send('POST', `/api/v1/machines/${MAC}/log`, 'first line\n\nsecond line\n', token);
    expect(await res.json()).toEqual({ lines: 2 });
    const list = (await (await f.get(`/api/v1/machines/${MAC}/events`)).json()) as { events: { kind: string; line: string }[] };
    expect(list.events).toMatchObject([{ kind: 'log', line: 'first line' }, { kind: 'log', line: 'second line' }]);
  });

  it('refuses a log that is too large', async () => {
    expect((await send('POST', `/api/v1/machines/${MAC}/log`, 'x'.repeat(70 * 1024), token)).status).toBe(413);
  });
});
