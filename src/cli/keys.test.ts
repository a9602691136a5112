import { sign, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSigningKey, parsePublicKey } from '../stream/index.ts';
import { keysCommand } from './keys.ts';
import type { CommandIo } from './machines.ts';

function io(): CommandIo & { out: string; err: string } {
  const sink = {
    out: '',
    err: '',
    env: {},
    stdout: (t: string) => {
      sink.out += t;
    },
    stderr: (t: string) => {
      sink.err += t;
    },
  };
  return sink;
}

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'trowel-cli-keys-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('keysCommand usage', () => {
  it.each([
    [[], 'missing subcommand'],
    [['rotate'], 'unknown subcommand "rotate"'],
    [['show', 'extra'], '"keys show" takes no arguments'],
    [['show', '--force'], '--force applies only to "keys init"'],
    [['init', '--bogus'], "Unknown option '--bogus'"],
  ])('exits 2 with the usage text for %j', async (argv, message) => {
    const out = io();
    expect(await keysCommand(argv as string[], out)).toBe(2);
    expect(out.err).toContain(message);
    expect(out.err).toContain('usage: trowel keys init [--state-dir DIR] [--force]');
  });

  it('prints help on stdout', async () => {
    const out = io();
    expect(await keysCommand(['--help'], out)).toBe(0);
    expect(out.out).toContain('trowel keys show [--state-dir DIR]');
  });
});

describe('keysCommand init and show', () => {
  it('init creates the key, refuses a second init, and --force replaces it', async () => {
    const first = io();
    expect(await keysCommand(['init', '--state-dir', stateDir], first)).toBe(0);
    const keyId = /^Created the signing key ([0-9a-f]{16})\n/.exec(first.out)?.[1];
    expect(keyId).toBeDefined();
    expect(first.out).toContain(`  private key  ${join(stateDir, 'keys/signing.key')} (mode 0600)\n`);
    expect((await stat(join(stateDir, 'keys/signing.key'))).mode & 0o777).toBe(0o600);

    const again = io();
    expect(await keysCommand(['init', '--state-dir', stateDir], again)).toBe(1);
    expect(again.err).toBe(
      `trowel: Cannot create the signing key: ${join(stateDir, 'keys/signing.key')} already exists ` +
        '(use --force to rotate it; clients pinning the old key will then refuse new manifests)\n',
    );

    const forced = io();
    expect(await keysCommand(['init', '--force', '--state-dir', stateDir], forced)).toBe(0);
    expect(forced.out).toMatch(/^Replaced the signing key [0-9a-f]{16}\n/);
    expect(forced.out).not.toContain(keyId!);
  });

  it('show prints the key id, the PEM and a trowel.key= argument that all name the signing key', async () => {
    expect(await keysCommand(['init', '--state-dir', stateDir], io())).toBe(0);
    const out = io();
    expect(await keysCommand(['show', '--state-dir', stateDir], out)).toBe(0);
    const signing = await loadSigningKey(stateDir);
    expect(out.out).toContain(`key id     ${signing.keyId}\nalgorithm  ed25519\n`);
    expect(out.out).toContain(await readFile(join(stateDir, 'keys/signing.pub'), 'utf8'));

    const arg = /^trowel\.key=(\S+)$/m.exec(out.out)?.[1];
    expect(arg).toBeDefined();
    expect(`trowel.key=${arg}`.length).toBeLessThan(80); // fits a kernel command line easily
    const pinned = parsePublicKey(arg!);
    const data = Buffer.from('x');
    expect(verify(null, data, pinned, sign(null, data, signing.privateKey))).toBe(true);
  });

  it('show without a key says to run keys init', async () => {
    const out = io();
    expect(await keysCommand(['show', '--state-dir', stateDir], out)).toBe(1);
    expect(out.err).toBe(`trowel: Cannot load the public key: ${join(stateDir, 'keys/signing.pub')} does not exist (run "trowel keys init" on the server first)\n`);
  });
});
