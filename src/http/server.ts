/**
 * node:http adapter for the fetch-style app. Request bodies reach the app
 * as a web stream, response bodies are piped to the socket with
 * backpressure (a 100 MiB initramfs is never held in memory), and a client
 * that goes away aborts `request.signal` and cancels the response body, so
 * the file handle behind it is closed at once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Logger } from '../log/logger.ts';
import { buildApp, type HttpApp, type HttpServerOptions } from './app.ts';
import { renderError } from './error-response.ts';
import { EventStream } from './event-stream.ts';
import { HttpError } from './http-error.ts';

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  let port = options.port ?? options.config.http.port;
  const app = buildApp(options, () => port);
  const log = options.log;
  const server = createServer((req, res) => {
    handle(app, req, res, log).catch((e: unknown) => {
      log.error('adapter_failed', { peer: req.socket.remoteAddress, error: String(e) });
      res.destroy();
    });
  });
  // Slow or idle clients must not pin sockets forever; downloads keep going as long as bytes flow.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.bindAddress ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  server.on('error', (e) => log.error('server_error', { error: String(e) }));
  server.on('clientError', (e, socket) => {
    log.debug('client_error', { peer: (socket as Socket).remoteAddress, error: (e as Error).message });
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  // WebSocket upgrades bypass the fetch-style app: the live event stream takes them.
  const stream = new EventStream({ machines: options.machines, events: options.events, metrics: options.metrics, log });
  server.on('upgrade', (req, socket, head) => stream.handleUpgrade(req, socket, head));
  log.info('listening', { address: options.bindAddress ?? '0.0.0.0', port });

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Stop accepting, then cut open connections (in-flight downloads included): a stop must not hang.
        // Upgraded sockets are no longer the server's, so the stream closes its own.
        stream.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** @private One request: IncomingMessage -> Request -> app -> Response -> ServerResponse. */
async function handle(app: HttpApp, req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
  const peer = req.socket.remoteAddress;
  const aborted = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) aborted.abort();
  });

  let request: Request;
  try {
    request = toRequest(req, aborted.signal);
  } catch {
    const bad = new HttpError(400, 'bad_request', 'Cannot read the request: the request target or a header is malformed');
    return send(renderError(bad, log, { method: req.method ?? '?', path: req.url ?? '?', peer: peer ?? '?' }), req, res, log);
  }
  const response = await app.fetch(request, { remoteAddress: peer });
  return send(response, req, res, log);
}

/** @private */
function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headersDistinct)) {
    for (const v of value ?? []) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(url, {
    method,
    headers,
    signal,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    // Required by the fetch spec for a streamed request body.
    ...(hasBody ? { duplex: 'half' } : {}),
  } as RequestInit);
}

/** @private */
async function send(response: Response, req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
  res.statusCode = response.status;
  const headers: Record<string, string[]> = {};
  response.headers.forEach((value, name) => {
    (headers[name] ??= []).push(value);
  });
  for (const [name, values] of Object.entries(headers)) res.setHeader(name, values.length === 1 ? values[0]! : values);
  if (!response.body || req.method === 'HEAD') {
    if (response.body) await response.body.cancel();
    res.end();
    return;
  }
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), res);
  } catch (e) {
    // A client that hangs up mid-download is normal (firmware retries, curl ^C); anything else is worth a warning.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE') {
      log.debug('client_aborted', { peer: req.socket.remoteAddress, path: req.url });
    } else {
      log.warn('response_failed', { peer: req.socket.remoteAddress, path: req.url, error: String(e) });
    }
  }
}
