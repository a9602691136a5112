import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MachineView } from '../http/index.ts';
import { formatMachine, formatMachineTable, machinesCommand, type CommandIo } from './machines.ts';

function io(env: NodeJS.ProcessEnv = {}): CommandIo & { out: string; err: string } {
  const sink = {
    out: '',
    err: '',
    env,
    stdout: (t: string) => {
      sink.out += t;
    },
    stderr: (t: string) => {
      sink.err += t;
    },
  };
  return sink;
}

/** A loopback port with nothing listening: bind one, then close it. */
let refused: string;
let dir: string;
beforeAll(async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  refused = `http://127.0.0.1:${port}`;
  dir = mkdtempSync(join(tmpdir(), 'trowel-cli-machines-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('machinesCommand usage', () => {
  it.each([
    [[], 'missing subcommand'],
    [['frobnicate'], 'unknown subcommand "frobnicate"'],
    [['list', 'extra'], '"machines list" takes no arguments'],
    [['show'], '"machines show" takes a MAC address'],
    [['show', 'nope'], '"nope" is not a MAC address'],
    [['set-action', '52:54:00:00:00:01'], '"machines set-action" takes a MAC address and an action'],
    [['set-action', '52:54:00:00:00:01', 'reboot'], '"reboot" is not a boot action; use one of discover, provision, local'],
    [['list', '--bogus'], "Unknown option '--bogus'"],
    [['list', '--server', 'ftp://x'], '--server must be an http:// URL, not "ftp://x"'],
  ])('exits 2 with the usage text for %j', async (argv, message) => {
    const out = io();
    expect(await machinesCommand(argv as string[], out)).toBe(2);
    expect(out.err).toContain(message);
    expect(out.err).toContain('usage: trowel machines list [--json]');
    expect(out.out).toBe('');
  });

  it('prints help on stdout and exits 0', async () => {
    const out = io();
    expect(await machinesCommand(['--help'], out)).toBe(0);
    expect(out.out).toContain('trowel machines set-action <mac> <discover|provision|local>');
  });
});

describe('machinesCommand failures', () => {
  it('says in one line that the server cannot be reached', async () => {
    const out = io();
    expect(await machinesCommand(['list', '--server', refused], out)).toBe(1);
    expect(out.err).toBe(`trowel: Cannot reach server ${refused}: ECONNREFUSED\n`);
  });

  it('takes the server from TROWEL_SERVER', async () => {
    const out = io({ TROWEL_SERVER: refused });
    expect(await machinesCommand(['show', '52:54:00:00:00:01'], out)).toBe(1);
    expect(out.err).toBe(`trowel: Cannot reach server ${refused}: ECONNREFUSED\n`);
  });

  it('explains a missing admin token file for set-action', async () => {
    const out = io();
    expect(await machinesCommand(['set-action', '52:54:00:00:00:01', 'local', '--server', refused, '--state-dir', dir], out)).toBe(1);
    expect(out.err).toBe(`trowel: Cannot read admin token ${join(dir, 'admin.token')}: ENOENT (give --token, set TROWEL_TOKEN, or run this on the server)\n`);
  });
});

const machine = (over: Partial<MachineView>): MachineView => ({
  mac: '52:54:00:00:00:01', hostname: null, ip: null, arch: null, uuid: null, action: 'discover', state: 'new',
  firstSeen: '2025-01-02T03:00:00.000Z', lastSeen: '2025-01-02T03:00:00.000Z', ...over,
});
const NOW = Date.parse('2025-01-02T03:05:30.000Z');

describe('formatMachineTable', () => {
  it('prints a header and one aligned row per machine', () => {
    const text = formatMachineTable([
      machine({ ip: '10.0.0.101', hostname: 'node1', action: 'local', state: 'deployed', lastSeen: '2025-01-02T03:05:00.000Z' }),
      machine({ mac: '52:54:00:00:00:02' }),
    ], NOW);
    expect(text).toBe(
      'MAC                IP          ACTION    STATE     SEEN     HOSTNAME\n' +
        '52:54:00:00:00:01  10.0.0.101  local     deployed  30s ago  node1\n' +
        '52:54:00:00:00:02  -           discover  new       5m ago   -\n',
    );
  });

  it('cuts a long hostname so every line fits 80 columns', () => {
    const text = formatMachineTable([machine({ ip: '192.168.100.200', hostname: 'h'.repeat(100), state: 'provisioning' })], NOW);
    for (const line of text.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(79);
    expect(text).toContain('…');
  });

  it('says so when there are no machines', () => {
    expect(formatMachineTable([], NOW)).toBe('No machines yet: a machine appears here when it first PXE-boots.\n');
  });
});

describe('formatMachine', () => {
  it('prints every field with the architecture named', () => {
    expect(formatMachine(machine({ arch: 7, uuid: 'u-1', hostname: 'node1', ip: '10.0.0.5' }), NOW)).toBe(
      'mac        52:54:00:00:00:01\n' +
        'hostname   node1\n' +
        'ip         10.0.0.5\n' +
        'arch       7 (x86-64 UEFI)\n' +
        'uuid       u-1\n' +
        'action     discover\n' +
        'state      new\n' +
        'first seen 2025-01-02T03:00:00.000Z (5m ago)\n' +
        'last seen  2025-01-02T03:00:00.000Z (5m ago)\n',
    );
  });
});
