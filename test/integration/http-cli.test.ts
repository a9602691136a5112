/**
 * `trowel machines` against a real HTTP server on loopback, backed by a
 * SQLite file: machines registered by fetching their boot script, listed,
 * shown, and switched to another boot action with and without the right token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machinesCommand, type CommandIo } from '../../src/cli/machines.ts';
import { parseConfig } from '../../src/config/index.ts';
import { loadOrCreateAdminToken, startHttpServer, type HttpServer } from '../../src/http/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { EventStore, MachineStore, openDatabase, type Database } from '../../src/store/index.ts';

let dir: string;
let db: Database;
let machines: MachineStore;
let server: HttpServer;
let url: string;
let adminToken: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trowel-http-cli-'));
  const config = parseConfig(`listen: { address: 10.0.0.1 }\nstateDir: ${JSON.stringify(dir)}\n`, join(dir, 'trowel.yaml'));
  db = openDatabase(join(dir, 'trowel.db'));
  machines = new MachineStore(db);
  adminToken = loadOrCreateAdminToken(dir);
  server = await startHttpServer({ config, machines, events: new EventStore(db), metrics: new MetricsRegistry(), log: silentLogger, adminToken, bindAddress: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${server.port}`;
  machines.recordContact({ mac: '52:54:00:00:00:01', arch: 7, ip: '10.0.0.101', hostname: 'node1' });
  const script = await (await fetch(`${url}/boot/ipxe?mac=52:54:00:00:00:02`)).text();
  expect(script).toContain('trowel.action=discover');
});

afterAll(async () => {
  await server?.close();
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CommandIo = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), env };
  const code = await machinesCommand(argv, io);
  return { code, out, err };
}

describe('trowel machines against a running server', () => {
  it('lists both machines in a table and as JSON, without tokens', async () => {
    const table = await cli(['list', '--server', url]);
    expect(table).toMatchObject({ code: 0, err: '' });
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MAC\s+IP\s+ACTION\s+STATE\s+SEEN\s+HOSTNAME$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0]).sort()).toEqual(['52:54:00:00:00:01', '52:54:00:00:00:02']);
    expect(table.out).toMatch(/52:54:00:00:00:01\s+10\.0\.0\.101\s+discover\s+new\s+\d+s ago\s+node1/);

    const json = await cli(['list', '--json'], { TROWEL_SERVER: url });
    expect(json.code).toBe(0);
    const list = JSON.parse(json.out) as { mac: string }[];
    expect(list.map((m) => m.mac).sort()).toEqual(['52:54:00:00:00:01', '52:54:00:00:00:02']);
    for (const m of machines.list()) expect(json.out).not.toContain(m.token);
  });

  it('shows one machine', async () => {
    const shown = await cli(['show', '52-54-00-00-00-01', '--server', url]);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('mac        52:54:00:00:00:01\n');
    expect(shown.out).toContain('arch       7 (x86-64 UEFI)\n');
    const missing = await cli(['show', '52:54:00:00:00:99', '--server', url]);
    expect(missing).toEqual({
      code: 1,
      out: '',
      err: 'trowel: Cannot show machine 52:54:00:00:00:99: server says 404 (machine_not_found): 52:54:00:00:00:99 has never booted from this server\n',
    });
  });

  it('refuses set-action with a wrong token and changes nothing', async () => {
    const wrong = await cli(['set-action', '52:54:00:00:00:02', 'local', '--server', url, '--token', 'not-the-admin-token']);
    expect(wrong).toEqual({
      code: 1,
      out: '',
      err: 'trowel: Cannot set action: server says 403 (forbidden): the bearer token is not the admin token\n',
    });
    const viaEnv = await cli(['set-action', '52:54:00:00:00:02', 'local', '--server', url], { TROWEL_TOKEN: 'also-wrong' });
    expect(viaEnv.code).toBe(1);
    expect(machines.get('52:54:00:00:00:02')?.action).toBe('discover');
  });

  it('sets the action with the token from --state-dir, and the next boot script boots the disk', async () => {
    const ok = await cli(['set-action', '52:54:00:00:00:02', 'local', '--server', url, '--state-dir', dir]);
    expect(ok).toEqual({ code: 0, out: '52:54:00:00:00:02: boot action is now local\n', err: '' });
    expect(machines.get('52:54:00:00:00:02')?.action).toBe('local');
    const script = await (await fetch(`${url}/boot/ipxe?mac=52:54:00:00:00:02`)).text();
    expect(script).toContain('sanboot --no-describe --drive 0x80');

    const back = await cli(['set-action', '52:54:00:00:00:02', 'provision', '--server', url, '--token', adminToken, '--json']);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.out)).toMatchObject({ mac: '52:54:00:00:00:02', action: 'provision' });
  });

  it('reports an unknown machine on set-action', async () => {
    const res = await cli(['set-action', '52:54:00:00:00:99', 'local', '--server', url, '--token', adminToken]);
    expect(res.code).toBe(1);
    expect(res.err).toBe('trowel: Cannot set action: server says 404 (machine_not_found): 52:54:00:00:00:99 has never booted from this server\n');
  });
});

describe('trowel machines set-plan and events', () => {
  it('sets a plan with the admin token, refuses a bad one, and shows the events a machine posts', async () => {
    const refused = await cli(['set-plan', '52:54:00:00:00:02', '--template', 'org.example.Desktop', '--server', url, '--token', 'wrong']);
    expect(refused).toMatchObject({ code: 1 });
    expect(refused.err).toMatch(/^trowel: Cannot set plan: server says 403/);
    const bad = await cli(['set-plan', '52:54:00:00:00:02', '--template', 'Desktop', '--server', url, '--token', adminToken]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--template must be a template name');

    const ok = await cli(['set-plan', '52:54:00:00:00:02', '--template', 'org.example.Desktop', '--wipe', '--hostname', 'node2', '--server', url, '--token', adminToken]);
    expect(ok).toMatchObject({ code: 0, err: '' });
    expect(ok.out).toBe('52:54:00:00:00:02: will install org.example.Desktop latest at its next PXE boot (action provision)\n');
    expect(machines.get('52:54:00:00:00:02')?.plan).toEqual({ template: 'org.example.Desktop', wipe: true, hostname: 'node2' });

    const token = machines.get('52:54:00:00:00:02')!.token;
    const post = (body: unknown) => fetch(`${url}/api/v1/machines/52:54:00:00:00:02/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ step: 'receive', state: 'done', bytes: 1048576 })).status).toBe(201);
    expect((await post({ step: 'complete', state: 'done' })).status).toBe(201);
    const events = await cli(['events', '52:54:00:00:00:02', '--server', url]);
    expect(events.out).toMatch(/^\d\d:\d\d:\d\d receive\s+done\s+1048576 bytes\n\d\d:\d\d:\d\d complete\s+done\n$/);
    const shown = await cli(['show', '52:54:00:00:00:02', '--json', '--server', url]);
    expect(JSON.parse(shown.out)).toMatchObject({ state: 'deployed', action: 'local' });
  });
});
