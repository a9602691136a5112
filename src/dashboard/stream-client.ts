/**
 * Follows the server's live event stream (ws://<server>/api/v1/events) and
 * keeps following it: a dropped connection or a server that restarts is
 * retried with growing, jittered delays, and a connection that goes silent
 * (the server sends counters every second) is dropped and retried too.
 */
import { WebSocket } from 'ws';
import { TrowelError } from '../errors.ts';
import { EVENT_STREAM_PATH, type StreamMessage } from '../http/event-stream-messages.ts';
import { backoffDelay, type BackoffOptions } from '../stream/backoff.ts';

export interface StreamClientOptions {
  /** The server's HTTP base URL, e.g. http://10.0.0.1:8080. */
  server: string;
  onMessage(message: StreamMessage): void;
  onOpen(): void;
  /** The connection failed or dropped; `attempt` counts retries since the last success. */
  onDown(attempt: number, error: string): void;
  /** Default 500 ms doubling to 5 s: a restarted server is back within seconds. */
  backoff?: BackoffOptions;
  /** No message for this long means the connection is dead (default 10 s). */
  silenceMs?: number;
}

export interface StreamClient {
  close(): void;
}

/** ws(s):// URL of the stream for an http(s):// server URL. */
export function eventStreamUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(EVENT_STREAM_PATH, server);
  } catch {
    throw new TrowelError('EUSAGE', `Cannot follow the event stream: "${server}" is not a URL`, { hint: 'pass --server http://<address>:<port>' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TrowelError('EUSAGE', `Cannot follow the event stream: "${server}" is not an http:// or https:// URL`, { hint: 'pass --server http://<address>:<port>' });
  }
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

export function followEventStream(options: StreamClientOptions): StreamClient {
  const url = eventStreamUrl(options.server);
  const backoff = options.backoff ?? { baseMs: 500, capMs: 5_000 };
  const silenceMs = options.silenceMs ?? 10_000;
  let attempt = 0;
  let closed = false;
  let ws: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;

  const armWatchdog = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => ws?.terminate(), silenceMs);
  };

  const connect = () => {
    let failure = '';
    const socket = new WebSocket(url, { handshakeTimeout: silenceMs });
    ws = socket;
    socket.on('open', () => {
      attempt = 0;
      armWatchdog();
      options.onOpen();
    });
    socket.on('message', (data) => {
      armWatchdog();
      let message: StreamMessage;
      try {
        message = JSON.parse(String(data)) as StreamMessage;
      } catch {
        return; // a frame that is not JSON is no message of ours
      }
      options.onMessage(message);
    });
    socket.on('unexpected-response', (_req, res) => {
      failure = `server answered ${res.statusCode ?? '?'} (no event stream there)`;
      socket.terminate();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      failure ||= e.code ?? e.message;
    });
    socket.on('close', (code) => {
      clearTimeout(watchdog);
      if (closed) return;
      attempt += 1;
      options.onDown(attempt, failure || (code === 1001 ? 'server stopped' : code === 1006 ? 'connection lost' : `closed (${code})`));
      retry = setTimeout(connect, backoffDelay(attempt - 1, backoff));
    });
  };

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(retry);
      clearTimeout(watchdog);
      ws?.terminate();
    },
  };
}
