/**
 * Test helper (not part of the product): an app over a temp boot root,
 * an in-memory machine store with a settable clock, and a log that
 * records every event so tests can assert what was logged.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../config/index.ts';
import { createLogger, LogLevel, type LogRecord } from '../log/logger.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { EventStore, MachineStore, openDatabase, type Database } from '../store/index.ts';
import { createHttpApp, type HttpApp, type HttpServerOptions } from './app.ts';

export const ADMIN_TOKEN = 'dGVzdC1hZG1pbi10b2tlbi0wMTIzNDU2Nzg5YWJjZGVm';

export interface Fixture {
  dir: string;
  root: string;
  db: Database;
  machines: MachineStore;
  metrics: MetricsRegistry;
  logs: LogRecord[];
  options: HttpServerOptions;
  app: HttpApp;
  clock: { now: number };
  get(path: string, init?: RequestInit): Promise<Response>;
  cleanup(): void;
}

export function makeFixture(boot = 'boot: { kernel: trowel/vmlinuz, initrd: trowel/initramfs.img, args: "console=ttyS0" }'): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'trowel-http-'));
  const root = join(dir, 'root');
  mkdirSync(root);
  const config = parseConfig(
    `listen: { address: 10.0.0.1 }\nhttp: { port: 8080, root: ${JSON.stringify(root)} }\n${boot}\nstateDir: ${JSON.stringify(dir)}\n`,
    join(dir, 'trowel.yaml'),
  );
  const clock = { now: Date.UTC(2025, 0, 2, 3, 4, 5) };
  const db = openDatabase(':memory:');
  const machines = new MachineStore(db, () => clock.now);
  const metrics = new MetricsRegistry();
  const logs: LogRecord[] = [];
  const log = createLogger('http', (r) => logs.push(r), LogLevel.debug);
  const events = new EventStore(db, () => clock.now);
  const options: HttpServerOptions = { config, machines, events, metrics, log, adminToken: ADMIN_TOKEN };
  const app = createHttpApp(options);
  return {
    dir, root, db, machines, metrics, logs, options, app, clock,
    get: (path, init) => app.fetch(new Request(`http://10.0.0.1:8080${path}`, init)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
