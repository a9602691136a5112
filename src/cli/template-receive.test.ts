import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyBase64, publicKeyPem } from '../stream/index.ts';
import { pinnedKey, templateReceiveCommand, type ProgressIo } from './template-receive.ts';

function captureIo(env: NodeJS.ProcessEnv = {}): ProgressIo & { out: string; err: string } {
  const io = { out: '', err: '', env, stderrIsTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

const { publicKey } = generateKeyPairSync('ed25519');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trowel-receive-cli-'));
  await writeFile(join(dir, 'server.pub'), publicKeyPem(publicKey));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('templateReceiveCommand', () => {
  const base = ['--server', 'http://127.0.0.1:9', '--name', 'org.example.A', '--arch', 'x86_64', '--into', '/nonexistent'];

  it('prints its usage for --help, also after a leading "receive"', async () => {
    for (const argv of [['--help'], ['receive', '--help']]) {
      const io = captureIo();
      expect(await templateReceiveCommand(argv, io)).toBe(0);
      expect(io.out).toMatch(/^usage: trowel template receive --server URL --name NAME --arch ARCH --into DIR\n/);
    }
  });

  it('answers usage errors with exit 2', async () => {
    const cases: [string[], string][] = [
      [['--name', 'org.example.A'], 'missing --server URL'],
      [['--server', 'ftp://x', '--name', 'org.example.A'], '--server must be an http:// URL, not "ftp://x"'],
      [['--server', 'http://x', '--arch', 'x86_64', '--into', '/x', '--key', 'k'], 'missing --name'],
      [[...base], "give the server's public key with exactly one of --key FILE or --key-base64 B64"],
      [[...base, '--key', 'a', '--key-base64', 'b'], "give the server's public key with exactly one of --key FILE or --key-base64 B64"],
      [[...base, '--key', 'a', 'extra'], 'unexpected argument "extra"'],
      [[...base, '--bogus'], "Unknown option '--bogus'"],
    ];
    for (const [argv, message] of cases) {
      const io = captureIo();
      expect(await templateReceiveCommand(argv, io)).toBe(2);
      expect(io.err.split('\n')[0]).toContain(`trowel template receive: ${message}`);
    }
  });

  it('takes the server from $TROWEL_SERVER', async () => {
    const io = captureIo({ TROWEL_SERVER: 'http://127.0.0.1:9' });
    // Fails later, at the name: the server option was satisfied.
    expect(await templateReceiveCommand(['--name', '../x', '--arch', 'x86_64', '--into', '/x', '--key', join(dir, 'server.pub')], io)).toBe(1);
    expect(io.err).toMatch(/^trowel: Cannot use template name "\.\.\/x": /);
  });

  it('fails with one line when the key file is missing or the server is unreachable', async () => {
    const io = captureIo();
    expect(await templateReceiveCommand([...base, '--key', join(dir, 'missing.pub')], io)).toBe(1);
    expect(io.err).toBe(`trowel: Cannot load the public key: ${join(dir, 'missing.pub')} does not exist (run "trowel keys init" on the server first)\n`);
    const io2 = captureIo();
    expect(await templateReceiveCommand([...base, '--into', dir, '--key', join(dir, 'server.pub')], io2)).toBe(1);
    expect(io2.err).toBe('trowel: Cannot receive org.example.A x86_64 latest: cannot reach server http://127.0.0.1:9: ECONNREFUSED; nothing was downloaded\n');
  });
});

describe('pinnedKey', () => {
  it('reads a PEM file or a base64 DER, the same key either way', async () => {
    const fromFile = await pinnedKey({ key: join(dir, 'server.pub') }, 'usage');
    const fromB64 = await pinnedKey({ 'key-base64': publicKeyBase64(publicKey) }, 'usage');
    expect(fromFile.equals(publicKey) && fromB64.equals(publicKey)).toBe(true);
  });
});
