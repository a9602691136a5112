import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, makeFixture, type Fixture } from '../test-fixture.ts';

const MAC = '52:54:00:00:00:01';
const OTHER = '52:54:00:00:00:02';
const INVENTORY = {
  collectedAt: '2026-01-02T03:04:05.000Z',
  system: { vendor: 'QEMU', product: 'Standard PC' },
  cpu: { model: 'QEMU Virtual CPU', threads: 2, cores: 2, sockets: 1 },
  memoryBytes: 2147483648,
  nics: [{ name: 'eth0', mac: MAC, state: 'up', carrier: true, speedMbps: 1000, driver: 'virtio_net' }],
  disks: [{ name: 'vda', serial: 'VIRTIO-0001', sizeBytes: 4294967296, transport: 'virtio', rotational: false }],
};
let f: Fixture;
let token: string;
beforeEach(() => {
  f = makeFixture();
  token = f.machines.recordContact({ mac: MAC }).token;
  f.machines.recordContact({ mac: OTHER });
});
afterEach(() => f.cleanup());

const put = (mac: string, body: unknown, auth?: string) => f.get(`/api/v1/machines/${mac}/inventory`, {
  method: 'PUT', headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: JSON.stringify(body),
});

describe('PUT/GET /api/v1/machines/<mac>/inventory', () => {
  it('stores what the machine sends with its own token and shows it to anyone', async () => {
    expect((await f.get(`/api/v1/machines/${MAC}/inventory`).then((r) => r.json()))).toEqual({ inventory: null, receivedAt: null });
    const res = await put(MAC, INVENTORY, token);
    expect(res.status).toBe(200);
    const got = await f.get(`/api/v1/machines/${MAC}/inventory`);
    expect(await got.json()).toEqual({ inventory: INVENTORY, receivedAt: new Date(f.clock.now).toISOString() });
  });

  it('refuses another machine\'s token, the admin token, no token, and a malformed inventory', async () => {
    expect((await put(OTHER, INVENTORY, token)).status).toBe(403);
    expect((await put(MAC, INVENTORY, ADMIN_TOKEN)).status).toBe(403);
    expect((await put(MAC, INVENTORY)).status).toBe(401);
    const bad = await put(MAC, { ...INVENTORY, disks: 'none' }, token);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_inventory', message: 'Cannot accept the inventory: disks must be a list' } });
    expect(f.machines.getInventory(MAC)).toBeUndefined();
  });

  it('answers 404 for a machine never seen', async () => {
    expect((await f.get('/api/v1/machines/52:54:00:00:00:09/inventory')).status).toBe(404);
  });
});
