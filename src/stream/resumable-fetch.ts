/**
 * Downloads one HTTP resource as a byte stream that survives dropped
 * connections: after a reset, a timeout or a 5xx it waits (exponential
 * backoff with jitter) and asks for the rest with `Range: bytes=<received>-`
 * guarded by `If-Range: <validator>` (RFC 9110 §14.2, §13.1.5), so every
 * byte comes out exactly once and in order. A server that answers a resume
 * with 200 has a different representation now (If-Range failed): the bytes
 * already handed downstream cannot be taken back, so that is fatal.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { TrowelError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';

export interface RetryInfo {
  /** 0 for the first retry after a failure, counting up while no byte arrives. */
  attempt: number;
  received: number;
  delayMs: number;
  reason: string;
}

export interface ResumableFetchOptions {
  /** Bytes the whole resource must have (from a manifest); checked against every response. */
  expectedSize?: number;
  /** Strong validator the resource must carry, e.g. `"<sha256>"`; also sent as If-Range. */
  etag?: string;
  /** Called after each chunk with the bytes received so far and the total when known. */
  onProgress?: (received: number, total: number | undefined) => void;
  onRetry?: (info: RetryInfo) => void;
  /** Failed attempts in a row (without a byte arriving) before giving up (default 6). */
  retries?: number;
  signal?: AbortSignal;
  /** Time to wait for response headers (default 30 s). */
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks (default 30 s). */
  bodyTimeoutMs?: number;
  backoff?: BackoffOptions;
  dispatcher?: Dispatcher;
  log?: Logger;
}

/** The resource's bytes, in order, each exactly once. Destroying the stream stops the download. */
export function resumableFetch(url: string, options: ResumableFetchOptions = {}): Readable {
  return Readable.from(chunks(url, options), { objectMode: false });
}

/** @private A failure worth another attempt (network, timeout, 5xx, short body). */
class Retryable extends Error {}

/** @private What the responses so far have established about the resource. */
interface Known {
  total: number | undefined;
  /** Strong ETag: every later response must carry the same one (if it carries one). */
  etag: string | undefined;
  /** The If-Range fallback when the server gives no strong ETag. */
  lastModified: string | undefined;
}

/** @private */
async function* chunks(url: string, options: ResumableFetchOptions): AsyncGenerator<Buffer> {
  const log = options.log ?? silentLogger;
  const retries = options.retries ?? 6;
  let known: Known = { total: options.expectedSize, etag: options.etag, lastModified: undefined };
  let received = 0;
  let failures = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const before = received;
    try {
      const headers: Record<string, string> = { 'accept-encoding': 'identity' };
      if (received > 0) {
        headers.range = `bytes=${received}-`;
        const validator = known.etag ?? known.lastModified;
        if (validator) headers['if-range'] = validator;
      }
      const response = await request(url, {
        method: 'GET',
        headers,
        signal: options.signal,
        headersTimeout: options.headersTimeoutMs ?? 30_000,
        bodyTimeout: options.bodyTimeoutMs ?? 30_000,
        dispatcher: options.dispatcher,
      });
      let finished = false;
      try {
        known = await checkResponse(url, response, received, known);
        const total = known.total;
        for await (const chunk of response.body as AsyncIterable<Buffer>) {
          received += chunk.length;
          if (total !== undefined && received > total) {
            throw new TrowelError('EFETCH', `Cannot download ${url}: the server sent more than the expected ${total} bytes`);
          }
          yield chunk;
          options.onProgress?.(received, total);
        }
        finished = true;
      } finally {
        if (!finished) {
          // undici reports a destroyed body as an AbortError event; this side chose to stop.
          response.body.on('error', () => {});
          response.body.destroy();
        }
      }
      if (known.total === undefined || received === known.total) return;
      throw new Retryable(`the connection closed after ${received} of ${known.total} bytes`);
    } catch (e) {
      if (e instanceof TrowelError || options.signal?.aborted) throw e;
      if (received > before) failures = 0;
      const reason = describeFailure(e);
      if (failures >= retries) {
        throw new TrowelError('EFETCH', `Cannot download ${url}: ${reason}; gave up after ${retries} retries (${received} of ${known.total ?? '?'} bytes received)`, { cause: e });
      }
      const delayMs = backoffDelay(failures, options.backoff);
      failures += 1;
      log.warn('fetch_retry', { url, received, total: known.total, attempt: failures, delayMs, reason });
      options.onRetry?.({ attempt: failures - 1, received, delayMs, reason });
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }
}

/**
 * @private Decides whether a response carries the bytes we need next.
 * Returns what it confirms about the resource; throws a TrowelError
 * (fatal) or a Retryable (after draining the body).
 */
async function checkResponse(url: string, response: Dispatcher.ResponseData, received: number, known: Known): Promise<Known> {
  const { statusCode: status, headers } = response;
  if (status >= 500 || status === 408 || status === 429) {
    throw new Retryable(`the server answered ${status}${await serverMessage(response)}`);
  }
  const fail = (state: string) => new TrowelError('EFETCH', `Cannot download ${url}: ${state}`);
  if (status >= 400) throw fail(`the server answered ${status}${status === 404 ? ' (not found)' : ''}${await serverMessage(response)}`);
  if (status === 200 && received > 0) {
    throw fail(`the server sent the whole resource again instead of the rest from byte ${received} (it changed since the download began)`);
  }
  if (status !== (received > 0 ? 206 : 200)) throw fail(`the server answered ${status}${status === 404 ? ' (not found)' : ''}`);
  const raw = header(headers.etag);
  const etag = raw && !raw.startsWith('W/') ? raw : undefined;
  if (known.etag && etag && etag !== known.etag) throw fail(`the server offers ETag ${etag}, expected ${known.etag}`);
  let size: number | undefined;
  if (status === 206) {
    const contentRange = header(headers['content-range']) ?? '';
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange);
    if (!range || Number(range[1]) !== received) {
      throw fail(`the server answered the resume from byte ${received} with Content-Range "${contentRange}"`);
    }
    size = range[3] === '*' ? undefined : Number(range[3]);
  } else {
    const length = header(headers['content-length']);
    size = length === undefined ? undefined : Number(length);
  }
  if (known.total !== undefined && size !== undefined && size !== known.total) {
    throw fail(`the server offers ${size} bytes, expected ${known.total}`);
  }
  return { total: known.total ?? size, etag: known.etag ?? etag, lastModified: known.lastModified ?? header(headers['last-modified']) };
}

/** @private */
function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** @private Undici and errno codes, said in words (the code stays for searching logs). */
const FAILURES: Record<string, string> = {
  UND_ERR_SOCKET: 'the connection closed mid-transfer',
  UND_ERR_BODY_TIMEOUT: 'the download stalled',
  UND_ERR_HEADERS_TIMEOUT: 'the server did not answer in time',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
};

/** @private */
function describeFailure(e: unknown): string {
  if (e instanceof Retryable) return e.message;
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  if (code && FAILURES[code]) return `${FAILURES[code]} (${code})`;
  return code ?? err.message ?? String(e);
}

/** The longest error body read for its message: trowel's are one JSON line. */
const ERROR_BODY_LIMIT = 4096;

/**
 * @private ": <message>" from an error answer's JSON body
 * (`{"error":{"message":...}}`, as trowel serve answers), so the console
 * says why (a full cache disk, a missing version); "" for any other body.
 * The body is consumed either way.
 */
async function serverMessage(response: Dispatcher.ResponseData): Promise<string> {
  let text = '';
  try {
    for await (const chunk of response.body) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length > ERROR_BODY_LIMIT) break;
    }
  } catch {
    return '';
  } finally {
    await response.body.dump().catch(() => {});
  }
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' && message.length > 0 ? `: ${message.slice(0, 500)}` : '';
  } catch {
    return '';
  }
}
