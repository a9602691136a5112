/**
 * `trowel top` in a real terminal (tmux) against a real server: a machine
 * posts its steps with its own token and the dashboard shows the step and
 * the progress change live, with the counters; the server restarts and the
 * dashboard reconnects by itself; q quits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type TrowelConfig } from '../../src/config/index.ts';
import { loadOrCreateAdminToken, startHttpServer, type HttpServer } from '../../src/http/index.ts';
import { SOURCE_CLI } from '../../src/lab/self.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { EventStore, MachineStore, openDatabase, type Database } from '../../src/store/index.ts';
import { TmuxSession } from '../helpers/tmux.ts';

const MAC = '52:54:00:7a:00:01';
const MiB = 2 ** 20;
let dir: string;
let config: TrowelConfig;
let db: Database;
let machines: MachineStore;
let server: HttpServer;
let port: number;
let tmux: TmuxSession;

function start(onPort: number): Promise<HttpServer> {
  return startHttpServer({
    config, machines, events: new EventStore(db), metrics: new MetricsRegistry(), log: silentLogger,
    adminToken: loadOrCreateAdminToken(dir), bindAddress: '127.0.0.1', port: onPort,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trowel-top-'));
  config = parseConfig(`listen: { address: 127.0.0.1 }\nstateDir: ${JSON.stringify(dir)}\n`, join(dir, 'trowel.yaml'));
  db = openDatabase(join(dir, 'trowel.db'));
  machines = new MachineStore(db);
  server = await start(0);
  port = server.port;
  await (await fetch(`http://127.0.0.1:${port}/boot/ipxe?mac=${MAC}`)).text();
  tmux = await TmuxSession.start({ command: `${process.execPath} ${SOURCE_CLI} top --server http://127.0.0.1:${port}`, columns: 80, rows: 25, env: { LANG: 'C.UTF-8' } });
});

afterAll(async () => {
  await tmux?.kill();
  await server?.close();
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function report(event: Record<string, unknown>): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/machines/${MAC}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${machines.get(MAC)!.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  expect(res.status).toBe(201);
}

/** The machine's row in the table. */
const row = (rest: string) => new RegExp(`${MAC}\\s+${rest}`);

describe('trowel top', () => {
  it('shows the machine, the counters, the help line, and that it is live', async () => {
    const screen = await tmux.waitFor(row('-\\s+new\\s+-\\s+-\\s+-'));
    expect(screen).toContain('machines (1)');
    expect(screen).toMatch(/MAC\s+HOST\s+STATE\s+STEP\s+PROG\s+RATE/);
    expect(screen).toContain('q quit  Up/Down scroll machines');
    await tmux.waitFor(`live: http://127.0.0.1:${port}`);
    await tmux.waitFor(/HTTP \d+ requests/);
  });

  it('follows the machine’s steps and progress live', async () => {
    await report({ step: 'partition', state: 'started' });
    await tmux.waitFor(row('\\S+\\s+provisioning\\s+partition\\s+-'));
    await report({ step: 'receive', state: 'progress', bytes: 64 * MiB, totalBytes: 256 * MiB, rate: 32 * MiB });
    const quarter = await tmux.waitFor(row('\\S+\\s+provisioning\\s+receive\\s+25%\\s+32\\.0 MiB/s'));
    expect(quarter).toMatch(/receive progress 64\.0 MiB 25% 32\.0 MiB\/s/);
    await report({ step: 'receive', state: 'progress', bytes: 192 * MiB, totalBytes: 256 * MiB, rate: 40 * MiB });
    await tmux.waitFor(row('\\S+\\s+provisioning\\s+receive\\s+75%\\s+40\\.0 MiB/s'));
    await report({ step: 'receive', state: 'done', bytes: 256 * MiB, totalBytes: 256 * MiB });
    await tmux.waitFor(row('\\S+\\s+provisioning\\s+receive\\s+100%\\s+-'));
    await report({ step: 'complete', state: 'done' });
    const done = await tmux.waitFor(row('\\S+\\s+deployed\\s+complete\\s+100%'));
    expect(done).toMatch(/complete done/);
    // Every request above was counted by the server: five posts, the boot script, more.
    const requests = Number(/HTTP (\d+) requests/.exec(await tmux.waitFor(/HTTP ([6-9]|\d\d+) requests/))![1]);
    expect(requests).toBeGreaterThanOrEqual(6);
  });

  it('reconnects by itself when the server restarts', async () => {
    await server.close();
    await tmux.waitFor(`reconnecting to http://127.0.0.1:${port}`);
    server = await start(port);
    await tmux.waitFor(`live: http://127.0.0.1:${port}`, 15_000);
    // The new server's snapshot: the machine as the database has it, counters from zero.
    await tmux.waitFor(row('\\S+\\s+deployed\\s+complete\\s+100%'));
  });

  it('quits on q and gives the terminal back', async () => {
    await tmux.sendKeys('q');
    await expect.poll(() => tmux.exited(), { timeout: 10_000 }).toBe(true);
  });
});
