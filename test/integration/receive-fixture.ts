/**
 * For the receive and pull integration tests: an HTTP proxy on loopback in
 * front of a real trowel server that does what a hostile or broken network
 * does to a template download, by plan: cut connections after some bytes,
 * never serve past an offset (a truncated stream), flip a bit, swap a
 * manifest. It counts the stream body bytes it forwards, which is what
 * "bytes transferred" means in the tests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export interface StreamRequest {
  range: string | undefined;
  ifRange: string | undefined;
  status: number;
}

export interface ProxyPlan {
  /** Per stream request (0-based), cut the connection after this many body bytes. */
  cutAfter?: (index: number) => number | undefined;
  /** Never forward stream bytes at or past this offset of the whole stream (cut the connection there). */
  truncateAt?: number;
  /** Stop forwarding stream bytes at this offset and keep the connection open (a hung server). */
  stallAt?: number;
  /** Flip the lowest bit of the stream byte at this offset. */
  flipAt?: number;
  /** Replace a manifest document (parsed JSON) before it reaches the client. */
  manifest?: (signed: unknown, path: string) => unknown;
  /** Called when a connection is cut on purpose. */
  onCut?: (index: number) => void;
}

export interface TamperingProxy {
  url: string;
  streamRequests: StreamRequest[];
  manifestRequests: number;
  /** Stream body bytes forwarded to clients, over all requests. */
  streamBytes(): number;
  close(): Promise<void>;
}

export async function startProxy(upstream: string, plan: ProxyPlan = {}): Promise<TamperingProxy> {
  const streamRequests: StreamRequest[] = [];
  let manifestRequests = 0;
  let forwarded = 0;
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const headers: Record<string, string> = {};
    for (const name of ['range', 'if-range', 'accept']) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    let up;
    try {
      up = await request(upstream + path, { method: req.method as 'GET', headers });
    } catch {
      // What a reverse proxy says while its upstream is down.
      res.writeHead(502, { 'content-type': 'text/plain' }).end('upstream unreachable');
      return;
    }
    up.body.on('error', () => {}); // cutting a download on purpose destroys it mid-way
    const isStream = /\/stream(\?|$)/.test(path);
    const isManifest = /\/manifest(\?|$)/.test(path);
    if (isManifest && up.statusCode === 200 && plan.manifest) {
      manifestRequests += 1;
      const body = JSON.stringify(plan.manifest(await up.body.json(), path));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).end(body);
      return;
    }
    if (isManifest) manifestRequests += 1;
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !['connection', 'keep-alive', 'transfer-encoding'].includes(k)) out[k] = v;
    res.writeHead(up.statusCode, out);
    if (!isStream) {
      for await (const chunk of up.body) res.write(chunk);
      res.end();
      return;
    }
    const index = streamRequests.length;
    streamRequests.push({ range: headers.range, ifRange: headers['if-range'], status: up.statusCode });
    const contentRange = /^bytes (\d+)-/.exec(String(up.headers['content-range'] ?? ''));
    let offset = contentRange ? Number(contentRange[1]) : 0;
    let sent = 0;
    const cutAfter = plan.cutAfter?.(index);
    for await (const raw of up.body as AsyncIterable<Buffer>) {
      let chunk = raw;
      if (plan.flipAt !== undefined && plan.flipAt >= offset && plan.flipAt < offset + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[plan.flipAt - offset] = chunk[plan.flipAt - offset]! ^ 0x01;
      }
      let allowed = chunk.length;
      if (plan.stallAt !== undefined && offset + chunk.length > plan.stallAt) {
        const part = chunk.subarray(0, Math.max(0, plan.stallAt - offset));
        forwarded += part.length;
        res.write(part);
        up.body.destroy();
        return; // the response stays open, silent
      }
      if (cutAfter !== undefined) allowed = Math.min(allowed, cutAfter - sent);
      if (plan.truncateAt !== undefined) allowed = Math.min(allowed, plan.truncateAt - offset);
      if (allowed < chunk.length) {
        const part = chunk.subarray(0, Math.max(0, allowed));
        forwarded += part.length;
        up.body.destroy();
        res.write(part, () => res.socket?.destroy());
        plan.onCut?.(index);
        return;
      }
      forwarded += chunk.length;
      sent += chunk.length;
      offset += chunk.length;
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streamRequests,
    get manifestRequests() {
      return manifestRequests;
    },
    streamBytes: () => forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
