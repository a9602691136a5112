import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeFixture, type Fixture } from '../test-fixture.ts';

let f: Fixture;
const SIZE = 1000;
/** Byte i of the test kernel is i mod 256, so any slice is easy to state independently. */
const pattern = (start: number, end: number) => Buffer.from(Array.from({ length: end - start + 1 }, (_, i) => (start + i) % 256));
const MTIME = new Date('2025-01-02T03:04:05Z');

beforeEach(() => {
  f = makeFixture();
  mkdirSync(join(f.root, 'trowel'));
  writeFileSync(join(f.root, 'trowel', 'vmlinuz'), pattern(0, SIZE - 1));
  utimesSync(join(f.root, 'trowel', 'vmlinuz'), MTIME, MTIME);
  writeFileSync(join(f.root, 'empty'), '');
  writeFileSync(join(f.dir, 'outside-secret'), 'secret');
  symlinkSync(join(f.dir, 'outside-secret'), join(f.root, 'escape'));
  symlinkSync('/etc', join(f.root, 'etc'));
});
afterEach(() => f.cleanup());

async function bytes(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

describe('GET /boot/files/*', () => {
  it('serves the whole file with length, validators and Accept-Ranges', async () => {
    const res = await f.get('/boot/files/trowel/vmlinuz');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('1000');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('last-modified')).toBe('Thu, 02 Jan 2025 03:04:05 GMT');
    expect(res.headers.get('etag')).toBe(`"3e8-${MTIME.getTime().toString(16)}"`);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(await bytes(res)).toEqual(pattern(0, 999));
  });

  it('answers HEAD with the headers only', async () => {
    const res = await f.get('/boot/files/trowel/vmlinuz', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('1000');
    expect(res.body).toBeNull();
  });

  it('serves an empty file', async () => {
    const res = await f.get('/boot/files/empty');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('0');
    expect(await bytes(res)).toHaveLength(0);
  });

  it.each([
    ['bytes=0-0', 0, 0],
    ['bytes=10-19', 10, 19],
    ['bytes=990-', 990, 999],
    ['bytes=-5', 995, 999],
    ['bytes=900-5000', 900, 999],
    ['bytes=-2000', 0, 999],
  ])('answers Range %s with 206 and exactly those bytes', async (range, start, end) => {
    const res = await f.get('/boot/files/trowel/vmlinuz', { headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/1000`);
    expect(res.headers.get('content-length')).toBe(String(end - start + 1));
    expect(await bytes(res)).toEqual(pattern(start, end));
  });

  it('answers an unsatisfiable Range with 416 and the size', async () => {
    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
      const res = await f.get('/boot/files/trowel/vmlinuz', { headers: { range } });
      expect(res.status, range).toBe(416);
      expect(res.headers.get('content-range')).toBe('bytes */1000');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('range_not_satisfiable');
    }
    expect((await f.get('/boot/files/empty', { headers: { range: 'bytes=0-' } })).status).toBe(416);
  });

  it('sends the whole file for multi-range or malformed Range, and for a stale If-Range', async () => {
    const cases: Record<string, string>[] = [{ range: 'bytes=0-1,5-6' }, { range: 'bytes=9-3' }, { range: 'bytes=0-9', 'if-range': '"stale"' }];
    for (const headers of cases) {
      const res = await f.get('/boot/files/trowel/vmlinuz', { headers });
      expect(res.status).toBe(200);
      expect((await bytes(res)).length).toBe(1000);
    }
  });

  it('honours Range when If-Range carries the current ETag', async () => {
    const etag = (await f.get('/boot/files/trowel/vmlinuz', { method: 'HEAD' })).headers.get('etag')!;
    const res = await f.get('/boot/files/trowel/vmlinuz', { headers: { range: 'bytes=0-9', 'if-range': etag } });
    expect(res.status).toBe(206);
  });

  it('answers 304 to a matching If-None-Match or a current If-Modified-Since', async () => {
    const etag = (await f.get('/boot/files/trowel/vmlinuz', { method: 'HEAD' })).headers.get('etag')!;
    expect((await f.get('/boot/files/trowel/vmlinuz', { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await f.get('/boot/files/trowel/vmlinuz', { headers: { 'if-modified-since': MTIME.toUTCString() } })).status).toBe(304);
    expect((await f.get('/boot/files/trowel/vmlinuz', { headers: { 'if-modified-since': 'Wed, 01 Jan 2025 00:00:00 GMT' } })).status).toBe(200);
  });

  it('answers 404 for missing files and directories', async () => {
    for (const p of ['/boot/files/nope', '/boot/files/trowel', '/boot/files/', '/boot/files']) {
      const res = await f.get(p);
      expect(res.status, p).toBe(404);
    }
  });

  it('never leaves the root: dot-dot paths fold to unknown routes or are refused', async () => {
    // The URL parser folds "/../" and "%2e%2e" segments before routing.
    for (const p of ['/boot/files/../../etc/passwd', '/boot/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd']) {
      const res = await f.get(p);
      expect(res.status, p).toBe(404);
      expect(await res.text()).not.toContain('root:');
    }
    // An encoded slash survives the parser and is refused after decoding.
    for (const p of ['/boot/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/boot/files/trowel/..%2F..%2F..%2Fetc%2Fpasswd', '/boot/files/vmlinuz%00']) {
      const res = await f.get(p);
      expect(res.status, p).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden_path');
    }
    expect(f.logs.filter((r) => r.event === 'file_path_refused')).toHaveLength(3);
    expect(f.logs.find((r) => r.event === 'file_path_refused')).toMatchObject({ level: 'warn', peer: 'in-process', reason: 'traversal' });
  });

  it('refuses a symlink that points out of the root', async () => {
    for (const p of ['/boot/files/escape', '/boot/files/etc/passwd']) {
      const res = await f.get(p);
      expect(res.status, p).toBe(403);
      expect(await res.text()).not.toMatch(/secret|root:/);
    }
    expect(f.logs.filter((r) => r.event === 'file_path_refused').map((r) => r.reason)).toEqual(['outside_root', 'outside_root']);
  });

  it('answers 400 for a malformed %-escape', async () => {
    expect((await f.get('/boot/files/%E0%A4%A')).status).toBe(400);
  });
});
