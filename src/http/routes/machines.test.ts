import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeFixture, type Fixture } from '../test-fixture.ts';

let f: Fixture;
let tokens: string[];
beforeEach(() => {
  f = makeFixture();
  const a = f.machines.recordContact({ mac: '52:54:00:00:00:01', arch: 7, uuid: 'uuid-1', ip: '10.0.0.101', hostname: 'node1' });
  f.clock.now += 1000;
  const b = f.machines.recordContact({ mac: '52:54:00:00:00:02', arch: 0 });
  tokens = [a.token, b.token];
});
afterEach(() => f.cleanup());

function put(mac: string, body: string, auth?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth !== undefined) headers.authorization = auth;
  return f.get(`/api/v1/machines/${mac}/action`, { method: 'PUT', headers, body });
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe('GET /api/v1/machines', () => {
  it('lists machines, newest contact first, without their tokens', async () => {
    const res = await f.get('/api/v1/machines');
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const t of tokens) expect(text).not.toContain(t);
    expect(text).not.toContain('token');
    expect(JSON.parse(text)).toEqual({
      machines: [
        {
          mac: '52:54:00:00:00:02', hostname: null, ip: null, arch: 0, uuid: null, action: 'discover', state: 'new',
          firstSeen: '2025-01-02T03:04:06.000Z', lastSeen: '2025-01-02T03:04:06.000Z',
        },
        {
          mac: '52:54:00:00:00:01', hostname: 'node1', ip: '10.0.0.101', arch: 7, uuid: 'uuid-1', action: 'discover', state: 'new',
          firstSeen: '2025-01-02T03:04:05.000Z', lastSeen: '2025-01-02T03:04:05.000Z',
        },
      ],
    });
  });
});

describe('GET /api/v1/machines/:mac', () => {
  it('shows one machine, accepting any MAC spelling, without its token', async () => {
    const res = await f.get('/api/v1/machines/52-54-00-00-00-01');
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(tokens[0]!);
    expect(JSON.parse(text)).toMatchObject({ machine: { mac: '52:54:00:00:00:01', hostname: 'node1', arch: 7 } });
    expect(Object.keys((JSON.parse(text) as { machine: object }).machine)).not.toContain('token');
  });

  it('answers 404 for an unknown machine and 400 for a non-MAC', async () => {
    const missing = await f.get('/api/v1/machines/52:54:00:00:00:99');
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({ code: 'machine_not_found', message: 'Cannot find the machine: 52:54:00:00:00:99 has never booted from this server' });
    const bad = await f.get('/api/v1/machines/not-a-mac');
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('invalid_mac');
  });
});

describe('PUT /api/v1/machines/:mac/action', () => {
  it('sets the action with the admin token and the next boot script follows it', async () => {
    const res = await put('52:54:00:00:00:01', '{"action":"local"}', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(tokens[0]!);
    expect(JSON.parse(text)).toMatchObject({ machine: { mac: '52:54:00:00:00:01', action: 'local' } });
    expect(f.machines.get('52:54:00:00:00:01')?.action).toBe('local');
    const script = await (await f.get('/boot/ipxe?mac=52:54:00:00:00:01')).text();
    expect(script).toContain('sanboot');
    expect(f.logs.find((r) => r.event === 'machine_action_set')).toMatchObject({ mac: '52:54:00:00:00:01', action: 'local' });
  });

  it('answers 401 with a challenge without a token, and changes nothing', async () => {
    const res = await put('52:54:00:00:00:01', '{"action":"local"}');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="trowel"');
    expect((await errorOf(res)).code).toBe('unauthorized');
    expect(f.machines.get('52:54:00:00:00:01')?.action).toBe('discover');
  });

  it("answers 403 for a wrong token, including the machine's own token", async () => {
    for (const auth of ['Bearer wrong-token', `Bearer ${tokens[0]}`, `Bearer ${ADMIN_TOKEN}x`]) {
      const res = await put('52:54:00:00:00:01', '{"action":"local"}', auth);
      expect(res.status, auth).toBe(403);
      expect((await errorOf(res)).code).toBe('forbidden');
    }
    expect(f.machines.get('52:54:00:00:00:01')?.action).toBe('discover');
  });

  it('answers 404 for an unknown machine', async () => {
    const res = await put('52:54:00:00:00:99', '{"action":"local"}', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('machine_not_found');
    expect(f.machines.get('52:54:00:00:00:99')).toBeUndefined();
  });

  it('answers 400 for bad JSON and for a bad action, naming the allowed values', async () => {
    const badJson = await put('52:54:00:00:00:01', '{"action":', `Bearer ${ADMIN_TOKEN}`);
    expect(badJson.status).toBe(400);
    expect((await errorOf(badJson)).code).toBe('invalid_json');
    for (const body of ['{"action":"reboot"}', '{}', '[]', 'null', '{"action":7}']) {
      const res = await put('52:54:00:00:00:01', body, `Bearer ${ADMIN_TOKEN}`);
      expect(res.status, body).toBe(400);
      expect(await errorOf(res)).toEqual({ code: 'invalid_action', message: 'Cannot set the action: "action" must be one of discover, provision, local' });
    }
  });

  it('answers 413 for an oversized body', async () => {
    const res = await put('52:54:00:00:00:01', JSON.stringify({ action: 'local', pad: 'x'.repeat(20_000) }), `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(413);
  });
});
