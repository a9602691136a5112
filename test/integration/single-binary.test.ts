/**
 * The single executable built by `npm run build` (npm test builds first):
 * it must run with no Node and no node_modules, including the parts that
 * bundlers most often break (node:sqlite, yaml, the HTTP server).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Netns } from '../../src/lab/netns.ts';

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
