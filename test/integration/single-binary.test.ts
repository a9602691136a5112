/**
 * The single executable built by `npm run build` (npm test builds first):
 * it must run with no Node and no node_modules, including the parts that
 * bundlers most often break (node:sqlite, yaml, the HTTP server, blessed's
 * widgets and terminal descriptions).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import { loadOrCreateAdminToken, startHttpServer } from '../../src/http/index.ts';
import { Netns } from '../../src/lab/netns.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { EventStore, MachineStore, openDatabase } from '../../src/store/index.ts';
import { TmuxSession } from '../helpers/tmux.ts';

const pexec = promisify(execFile);
const BINARY = resolve('dist/trowel');
const dir = mkdtempSync(join(tmpdir(), 'trowel-binary-'));

describe('dist/trowel single executable', () => {
  const made: Netns[] = [];
  afterAll(async () => {
    for (const ns of made) await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exists after the build and prints its version', async () => {
    expect(existsSync(BINARY)).toBe(true);
    const { stdout } = await pexec(BINARY, ['--version'], { env: { PATH: '/usr/bin:/bin' } });
    expect(stdout).toMatch(/^trowel \d+\.\d+\.\d+\n$/);
  });

  it('serves HTTP from SQLite state inside a namespace', async () => {
    const ns = await Netns.create();
    made.push(ns);
    await ns.ip('addr', 'add', '10.79.0.1/32', 'dev', 'lo');
    const config = join(dir, 'trowel.yaml');
    writeFileSync(config, `listen: { address: 10.79.0.1 }\ndhcp: { mode: off }\ntftp: { enabled: false }\nhttp: { port: 8080 }\nstateDir: ${dir}/state\n`);
    const child = ns.spawn(BINARY, ['serve', '--config', config], { env: { PATH: '/usr/bin:/bin' } });
    try {
      await new Promise<void>((ok, fail) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('"serve.ready"')) ok();
        });
        child.once('exit', (code) => fail(new Error(`serve exited ${code}: ${out}`)));
      });
      const health = JSON.parse((await ns.exec('curl', ['-sf', 'http://10.79.0.1:8080/api/v1/health'])).stdout);
      expect(health.status).toBe('ok');
      const ipxe = (await ns.exec('curl', ['-sf', 'http://10.79.0.1:8080/boot/ipxe?mac=52:54:00:aa:bb:01'])).stdout;
      expect(ipxe).toContain('trowel.mac=52:54:00:aa:bb:01');
      const machines = JSON.parse((await ns.exec('curl', ['-sf', 'http://10.79.0.1:8080/api/v1/machines'])).stdout);
      expect(JSON.stringify(machines)).toContain('52:54:00:aa:bb:01');
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('dist/trowel top in a terminal with no terminfo database (as in the PXE image)', () => {
  const stops: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  /** A server with one machine halfway through its receive step. */
  async function server(): Promise<string> {
    const state = mkdtempSync(join(tmpdir(), 'trowel-binary-top-'));
    const db = openDatabase(join(state, 'trowel.db'));
    const machines = new MachineStore(db);
    const events = new EventStore(db);
    const config = parseConfig(`listen: { address: 127.0.0.1 }\nstateDir: ${JSON.stringify(state)}\n`, join(state, 'trowel.yaml'));
    const http = await startHttpServer({ config, machines, events, metrics: new MetricsRegistry(), log: silentLogger, adminToken: loadOrCreateAdminToken(state), bindAddress: '127.0.0.1', port: 0 });
    stops.push(() => rmSync(state, { recursive: true, force: true }), () => db.close(), () => http.close());
    machines.recordContact({ mac: '52:54:00:aa:bb:02', hostname: 'node2' });
    events.append('52:54:00:aa:bb:02', 'step', { step: 'receive', state: 'progress', bytes: 50, totalBytes: 100 });
    machines.setState('52:54:00:aa:bb:02', 'provisioning:receive');
    return `http://127.0.0.1:${http.port}`;
  }

  // The terminal runs outside; only trowel, in its own mount namespace, sees empty terminfo directories.
  const hidden = ['/etc/terminfo', '/lib/terminfo', '/usr/lib/terminfo', '/usr/share/terminfo'].filter((d) => existsSync(d));
  const noTerminfo = (command: string) => `unshare -m sh -c '${hidden.map((d) => `mount -t tmpfs none ${d} && `).join('')}exec ${command}'`;

  for (const [term, lang, chart] of [
    ['linux', '', /MiB\/s: \* served .*, o received/],
    ['vt100', '', /MiB\/s: \* served .*, o received/],
    ['xterm-256color', 'C.UTF-8', /[\u2800-\u28ff]/],
  ] as const) {
    it(`draws the dashboard under TERM=${term}, and q quits`, async () => {
      const url = await server();
      const tmux = await TmuxSession.start({ command: noTerminfo(`${BINARY} top --server ${url}`), term, env: { LANG: lang, PATH: '/usr/bin:/bin' } });
      stops.push(() => tmux.kill());
      const screen = await tmux.waitFor(/52:54:00:aa:bb:02\s+node2\s+provisioning\s+receive\s+50%/);
      expect(screen).toContain(`live: ${url}`);
      expect(screen).toContain('q quit  Up/Down scroll machines');
      expect(await tmux.waitFor(/HTTP \d+ requests/)).toMatch(chart);
      await tmux.sendKeys('q');
      await expect.poll(() => tmux.exited(), { timeout: 10_000 }).toBe(true);
    });

    it(`draws the console's first screen under TERM=${term}, and Ctrl-C quits`, async () => {
      const url = await server();
      const tmux = await TmuxSession.start({
        command: noTerminfo(`${BINARY} tui --server ${url} --no-reboot --cmdline trowel.mac=52:54:00:aa:bb:03`),
        term, env: { LANG: lang, PATH: '/usr/bin:/bin' },
      });
      stops.push(() => tmux.kill());
      // This server has no pool: the console stays on its server screen and says why.
      const screen = await tmux.waitFor('Cannot list templates');
      expect(screen).toContain('trowel console - Server');
      expect(screen).toContain(`Server URL: ${url}`);
      expect(screen).toMatch(/Enter connect .* Ctrl-C quit/);
      await tmux.sendKeys('C-c');
      await expect.poll(() => tmux.exited(), { timeout: 10_000 }).toBe(true);
    });
  }
});
