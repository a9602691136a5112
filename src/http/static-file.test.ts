import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serveFile } from './static-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'trowel-static-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three and a bit read chunks (1 MiB), so bodies cross chunk boundaries. */
const content = randomBytes(3 * 1024 * 1024 + 1234);
const file = join(dir, 'blob.bin');
writeFileSync(file, content);

const get = (headers: Record<string, string> = {}) => new Request('http://x/blob.bin', { headers });
const openFds = () => readdirSync('/proc/self/fd').length;

describe('serveFile bodies', () => {
  it('serveFile streams a file of several chunks byte for byte', async () => {
    const res = await serveFile(get(), file);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(content.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(content)).toBe(true);
  });

  it('serveFile sends exactly a range that spans chunk boundaries', async () => {
    const start = 1024 * 1024 - 10;
    const end = 2 * 1024 * 1024 + 99;
    const res = await serveFile(get({ range: `bytes=${start}-${end}` }), file);
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(content.subarray(start, end + 1))).toBe(true);
  });

  it('serveFile fails the body of a file that shrank after its length was sent', async () => {
    const shrinking = join(dir, 'shrinking.bin');
    writeFileSync(shrinking, content);
    const res = await serveFile(get(), shrinking);
    // One chunk may be read ahead already: the body ends after it, or at the new end.
    truncateSync(shrinking, 1000);
    await expect(res.arrayBuffer()).rejects.toThrow(/it ended at byte (1000|1048576), before the 3146962 promised/);
  });

  it('serveFile closes the file when the client goes away mid-body, and when the body ends', async () => {
    const before = openFds();
    const cancelled = await serveFile(get(), file);
    const reader = cancelled.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(openFds()).toBe(before);
    await (await serveFile(get(), file)).arrayBuffer();
    expect(openFds()).toBe(before);
  });
});
