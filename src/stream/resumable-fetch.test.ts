import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { resumableFetch, type ResumableFetchOptions } from './resumable-fetch.ts';

/** What the test server does with request number i (0-based). */
type Behaviour =
  | { kind: 'ok' }
  | { kind: 'cut'; after: number } // send this many body bytes, then reset the connection
  | { kind: 'status'; code: number }
  | { kind: 'error'; code: number; message: string } // trowel serve's JSON error body
  | { kind: 'ignore-range' } // answer 200 with the whole body (representation changed)
  | { kind: 'stall'; after: number } // send this many bytes, then go silent
  | { kind: 'wrong-start' }; // 206 starting one byte early

interface Seen {
  range: string | undefined;
  ifRange: string | undefined;
}

const DATA = randomBytes(256 * 1024);
const ETAG = '"0123abcd"';
const fast = { baseMs: 5, capMs: 20 };

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A node:http file server with single-range support and scripted faults. */
async function serve(plan: (i: number) => Behaviour, body = DATA): Promise<{ url: string; seen: Seen[]; sent: () => number }> {
  const seen: Seen[] = [];
  let sent = 0;
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const i = seen.length;
    const ifRange = req.headers['if-range'];
    seen.push({ range: req.headers.range, ifRange: Array.isArray(ifRange) ? ifRange.join(',') : ifRange });
    const b = plan(i);
    if (b.kind === 'status') {
      res.writeHead(b.code, { 'content-type': 'text/plain' }).end('nope');
      return;
    }
    if (b.kind === 'error') {
      res.writeHead(b.code, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'x', message: b.message } }));
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const rangeOk = m && b.kind !== 'ignore-range' && (req.headers['if-range'] === undefined || req.headers['if-range'] === ETAG);
    let start = rangeOk ? Number(m[1]) : 0;
    if (b.kind === 'wrong-start') start = Math.max(0, start - 1);
    const slice = body.subarray(start);
    const headers: Record<string, string> = { etag: ETAG, 'accept-ranges': 'bytes', 'content-length': String(slice.length) };
    if (rangeOk) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(rangeOk ? 206 : 200, headers);
    if (b.kind === 'cut' || b.kind === 'stall') {
      const part = slice.subarray(0, b.after);
      sent += part.length;
      res.write(part, () => {
        if (b.kind === 'cut') res.socket?.destroy();
      });
      return;
    }
    sent += slice.length;
    res.end(slice);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/blob`, seen, sent: () => sent };
}

async function download(url: string, options: ResumableFetchOptions = {}): Promise<Buffer> {
  return Buffer.concat(await resumableFetch(url, { backoff: fast, ...options }).toArray());
}

describe('resumableFetch', () => {
  it('streams a whole resource and reports progress up to its size', async () => {
    const { url, seen } = await serve(() => ({ kind: 'ok' }));
    const progress: number[] = [];
    const got = await download(url, { onProgress: (n, total) => progress.push(n, total ?? -1) });
    expect(got.equals(DATA)).toBe(true);
    expect(seen).toEqual([{ range: undefined, ifRange: undefined }]);
    expect(progress.slice(-2)).toEqual([DATA.length, DATA.length]);
  });

  it('resumes after connections are reset, with Range from the received count and If-Range', async () => {
    const cuts = [100_000, 50_001];
    const { url, seen, sent } = await serve((i) => (i < cuts.length ? { kind: 'cut', after: cuts[i]! } : { kind: 'ok' }));
    const retries: number[] = [];
    const got = await download(url, { onRetry: (r) => retries.push(r.received) });
    expect(got.equals(DATA)).toBe(true);
    expect(seen).toEqual([
      { range: undefined, ifRange: undefined },
      { range: 'bytes=100000-', ifRange: ETAG },
      { range: 'bytes=150001-', ifRange: ETAG },
    ]);
    expect(retries).toEqual([100_000, 150_001]);
    expect(sent()).toBe(DATA.length);
  });

  it('retries a 503 and a 429, then succeeds', async () => {
    const { url, seen } = await serve((i) => (i === 0 ? { kind: 'status', code: 503 } : i === 1 ? { kind: 'status', code: 429 } : { kind: 'ok' }));
    expect((await download(url)).equals(DATA)).toBe(true);
    expect(seen).toHaveLength(3);
  });

  it('resumes after the body goes silent for longer than bodyTimeoutMs', async () => {
    const { url, seen } = await serve((i) => (i === 0 ? { kind: 'stall', after: 70_000 } : { kind: 'ok' }));
    expect((await download(url, { bodyTimeoutMs: 300 })).equals(DATA)).toBe(true);
    expect(seen[1]).toEqual({ range: 'bytes=70000-', ifRange: ETAG });
  });

  it('fails when a resume is answered with the whole resource (representation changed)', async () => {
    const { url } = await serve((i) => (i === 0 ? { kind: 'cut', after: 1000 } : { kind: 'ignore-range' }));
    await expect(download(url)).rejects.toThrow(/^Cannot download http:\/\/127\.0\.0\.1:\d+\/blob: the server sent the whole resource again instead of the rest from byte 1000/);
  });

  it('fails when a resume starts at the wrong byte', async () => {
    const { url } = await serve((i) => (i === 0 ? { kind: 'cut', after: 1000 } : { kind: 'wrong-start' }));
    await expect(download(url)).rejects.toThrow(/resume from byte 1000 with Content-Range "bytes 999-/);
  });

  it('fails at once on a 404, without retrying', async () => {
    const { url, seen } = await serve(() => ({ kind: 'status', code: 404 }));
    const err = await download(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrowelError);
    expect((err as TrowelError).code).toBe('EFETCH');
    expect((err as Error).message).toMatch(/answered 404 \(not found\)$/);
    expect(seen).toHaveLength(1);
  });

  it('says why the server refused: the message of its JSON error goes into the retry reason and the error', async () => {
    const full = 'Cannot cache the stream of org.example.A x86_64 20261201T000000Z: no space left in /var/lib/trowel/cache';
    const { url } = await serve((i) => (i === 0 ? { kind: 'error', code: 507, message: full } : { kind: 'ok' }));
    const reasons: string[] = [];
    expect((await download(url, { onRetry: (r) => reasons.push(r.reason) })).equals(DATA)).toBe(true);
    expect(reasons).toEqual([`the server answered 507: ${full}`]);

    const missing = await serve(() => ({ kind: 'error', code: 404, message: 'Cannot find org.example.A x86_64 20261201T000000Z: no such version' }));
    await expect(download(missing.url)).rejects.toThrow(/answered 404 \(not found\): Cannot find org\.example\.A x86_64 20261201T000000Z: no such version$/);
    // A body that is not trowel's JSON adds nothing (the plain 404 test above ends at "(not found)").
  });

  it('gives up after the retry budget when no byte arrives between failures', async () => {
    // Every response stops at byte 1000 of the resource: the first attempt makes progress, the two retries do not.
    const { url, seen } = await serve((i) => ({ kind: 'cut', after: i === 0 ? 1000 : 0 }));
    await expect(download(url, { retries: 2 })).rejects.toThrow(/gave up after 2 retries \(1000 of 262144 bytes received\)$/);
    expect(seen.map((s) => s.range)).toEqual([undefined, 'bytes=1000-', 'bytes=1000-']);
  });

  it('refuses a resource whose size or ETag differs from what the caller expects', async () => {
    const { url } = await serve(() => ({ kind: 'ok' }));
    await expect(download(url, { expectedSize: DATA.length + 1 })).rejects.toThrow(/offers 262144 bytes, expected 262145$/);
    await expect(download(url, { etag: '"other"' })).rejects.toThrow(/offers ETag "0123abcd", expected "other"$/);
  });

  it('stops requesting when its signal aborts during a backoff', async () => {
    const { url, seen } = await serve(() => ({ kind: 'status', code: 503 }));
    const controller = new AbortController();
    const pending = download(url, { signal: controller.signal, backoff: { baseMs: 60_000, capMs: 60_000 } });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    expect(seen).toHaveLength(1);
  });
});
