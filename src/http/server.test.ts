import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from './server.ts';
import { ADMIN_TOKEN, makeFixture, type Fixture } from './test-fixture.ts';

const execFileP = promisify(execFile);
const BIG = 64 * 1024 * 1024;

let f: Fixture;
let server: HttpServer;
let big: Buffer;
let base: string;

beforeAll(async () => {
  f = makeFixture();
  big = randomBytes(BIG);
  writeFileSync(join(f.root, 'big.img'), big);
  writeFileSync(join(f.root, 'small'), 'hello');
  server = await startHttpServer({ ...f.options, bindAddress: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.close();
  f?.cleanup();
});

/** Sends raw bytes and returns everything the server answers before closing. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.end(request));
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

/** File descriptors of this process that point at `path`. */
function openFds(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytesSent = () => f.metrics.counter('trowel_http_response_bytes_total', '').get({ route: '/boot/files/*' });

describe('startHttpServer', () => {
  it('listens on an ephemeral port and writes that port into boot scripts', async () => {
    expect(server.port).toBeGreaterThan(0);
    const script = await (await fetch(`${base}/boot/ipxe?mac=52:54:00:00:00:01`)).text();
    expect(script).toContain(`trowel.server=http://10.0.0.1:${server.port} `);
    expect(f.logs.find((r) => r.event === 'boot_script_served')).toMatchObject({ peer: '127.0.0.1' });
  });

  it('serves a 64 MiB file byte-identical to curl, whole and by range', async () => {
    const out = join(f.dir, 'curl.out');
    await execFileP('curl', ['-sSf', '-o', out, `${base}/boot/files/big.img`]);
    const { stdout } = await execFileP('sha256sum', [out]);
    expect(stdout.split(' ')[0]).toBe(sha(big));
    const part = await execFileP('curl', ['-sSf', '-r', '1000-1999', `${base}/boot/files/big.img`], { encoding: 'buffer' });
    expect(part.stdout).toEqual(big.subarray(1000, 2000));
  });

  it('answers HEAD with Content-Length and no body', async () => {
    const { stdout } = await execFileP('curl', ['-sSfI', `${base}/boot/files/big.img`]);
    expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(stdout).toContain(`content-length: ${BIG}\r\n`);
    expect(stdout).toContain('accept-ranges: bytes\r\n');
  });

  it('streams with backpressure and closes the file when the client goes away', async () => {
    const file = join(f.root, 'big.img');
    const before = bytesSent();
    const socket = connect(server.port, '127.0.0.1');
    let received = 0;
    await new Promise<void>((resolve) => {
      socket.on('data', (d: Buffer) => {
        received += d.length;
        if (received > 64 * 1024) {
          socket.pause(); // a stalled client: the server must stop reading the file
          resolve();
        }
      });
      socket.write('GET /boot/files/big.img HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    await new Promise((r) => setTimeout(r, 500)); // unthrottled, the whole 64 MiB would be read by now
    const pulled = bytesSent() - before;
    expect(openFds(file)).toBe(1);
    // Only socket and stream buffers' worth has been read, far less than the file.
    expect(pulled).toBeLessThan(BIG / 4);
    socket.destroy();
    for (let i = 0; i < 50 && openFds(file) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(openFds(file)).toBe(0);
    expect((await fetch(`${base}/boot/files/small`)).status).toBe(200); // still serving
  });

  it('keeps dot-dot request targets sent raw inside the root', async () => {
    const folded = await raw('GET /boot/files/../../../../etc/passwd HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(folded).toMatch(/^HTTP\/1\.1 404 /);
    expect(folded).not.toContain('root:');
    const encoded = await raw('GET /boot/files/..%2f..%2f..%2f..%2fetc%2fpasswd HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(encoded).toMatch(/^HTTP\/1\.1 403 /);
    expect(f.logs.some((r) => r.event === 'file_path_refused' && r.peer === '127.0.0.1')).toBe(true);
  });

  it('answers a malformed request 400 and keeps running', async () => {
    expect(await raw('NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect((await raw('GET /api/v1/health HTTP/1.1\r\nhost: [bad\r\nconnection: close\r\n\r\n')).split('\r\n')[0]).toMatch(/^HTTP\/1\.1 (200|400) /);
    expect((await fetch(`${base}/api/v1/health`)).status).toBe(200);
  });

  it('passes request bodies to the app (PUT action)', async () => {
    f.machines.recordContact({ mac: '52:54:00:00:00:07' });
    const res = await fetch(`${base}/api/v1/machines/52:54:00:00:00:07/action`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{"action":"provision"}',
    });
    expect(res.status).toBe(200);
    expect(f.machines.get('52:54:00:00:00:07')?.action).toBe('provision');
  });

  it('close() returns promptly even with a download in flight', async () => {
    const other = await startHttpServer({ ...f.options, bindAddress: '127.0.0.1', port: 0 });
    const socket = connect(other.port, '127.0.0.1');
    await new Promise<void>((resolve) => {
      socket.once('data', () => {
        socket.pause();
        resolve();
      });
      socket.write('GET /boot/files/big.img HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(2000);
    socket.destroy();
  });
});

describe('startHttpServer errors', () => {
  it('rejects with EADDRINUSE when the port is taken', async () => {
    await expect(startHttpServer({ ...f.options, bindAddress: '127.0.0.1', port: server.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
