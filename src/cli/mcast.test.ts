import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mcastCommand, parseRate } from './mcast.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'trowel-mcast-cli-'));
  dirs.push(d);
  return d;
}

function io() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t), env: {} } };
}

const endpoint = (keyFile: string) => ['--group', '239.255.84.1', '--port', '5555', '--interface', '127.0.0.1', '--key-file', keyFile, '--session', '7'];

describe('parseRate', () => {
  it('reads bit rates with k/M/G suffixes', () => {
    expect(parseRate('900M')).toBe(900e6);
    expect(parseRate('1.5G')).toBe(1.5e9);
    expect(parseRate('250000k')).toBe(250e6);
    expect(parseRate('1e9')).toBe(1e9);
    expect(parseRate('fast')).toBeUndefined();
    expect(parseRate('0')).toBeUndefined();
  });
});

describe('mcastCommand', () => {
  it('prints the usage for --help', async () => {
    const { out, io: cmdIo } = io();
    expect(await mcastCommand(['--help'], cmdIo)).toBe(0);
    expect(out.stdout).toContain('trowel mcast send-file FILE');
  });

  it('is a usage error (2) to miss a subcommand, a file or an option', async () => {
    for (const argv of [[], ['bogus', 'x'], ['send-file'], ['receive-file', 'out', '--group', '239.1.1.1']]) {
      const { out, io: cmdIo } = io();
      expect(await mcastCommand(argv, cmdIo)).toBe(2);
      expect(out.stderr).toMatch(/^trowel mcast: /);
    }
  });

  it('refuses a unicast group, an option of the other side, and a bad rate', async () => {
    const dir = tempDir();
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, 'ab'.repeat(32));
    const cases: [string[], RegExp][] = [
      [['send-file', 'f', ...endpoint(keyFile).map((a) => (a === '239.255.84.1' ? '10.0.0.1' : a))], /multicast address/],
      [['receive-file', 'o', ...endpoint(keyFile), '--rate', '1G'], /--rate applies only to send-file/],
      [['send-file', 'f', ...endpoint(keyFile), '--timeout', '3s'], /--timeout applies only to receive-file/],
      [['send-file', 'f', ...endpoint(keyFile), '--rate', 'fast'], /--rate must be a rate/],
      [['send-file', 'f', ...endpoint(keyFile), '--fec', '64'], /--fec must be K,P/],
      [['send-file', 'f', ...endpoint(keyFile), '--drop-after', '1s'], /--drop-after must be from 2s to 10m, not "1s"/],
      [['receive-file', 'o', ...endpoint(keyFile), '--drop-after', '30s'], /--drop-after applies only to send-file/],
    ];
    for (const [argv, message] of cases) {
      const { out, io: cmdIo } = io();
      expect(await mcastCommand(argv, cmdIo)).toBe(2);
      expect(out.stderr).toMatch(message);
    }
  });

  it('fails with one line (1) for a key file that is not a key', async () => {
    const dir = tempDir();
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, 'not a key');
    const { out, io: cmdIo } = io();
    expect(await mcastCommand(['receive-file', join(dir, 'out'), ...endpoint(keyFile), '--timeout', '1s'], cmdIo)).toBe(1);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/^trowel mcast receive-file: Cannot use .* as a session key/);
  });

  it('fails with one line (1) when the file to send does not exist', async () => {
    const dir = tempDir();
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, 'ab'.repeat(32));
    const { out, io: cmdIo } = io();
    expect(await mcastCommand(['send-file', join(dir, 'missing'), ...endpoint(keyFile), '--mtu', '1500'], cmdIo)).toBe(1);
    expect(out.stderr).toMatch(/^trowel mcast send-file: Cannot send .*missing: ENOENT\n$/);
  });
});
