/**
 * Answers GET/HEAD for one regular file: streamed from an open file handle
 * (never read into memory; kernels and initramfs are tens of MiB), with
 * validators and single byte ranges (RFC 9110 §8.8, §13, §14). The handle
 * is opened before stat so the bytes sent are those of the file that was
 * checked, even if the path is replaced meanwhile.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { HttpError } from './http-error.ts';
import { parseRange } from './range.ts';

const CONTENT_TYPES: Record<string, string> = {
  // UEFI HTTP boot (EDK2) accepts an image by this type, or else by a .efi name.
  '.efi': 'application/efi',
  '.ipxe': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.cfg': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.sig': 'application/octet-stream',
};

/**
 * Bytes per read. Each chunk costs a few promise hops in every web-stream
 * layer between here and the socket (this stream, app.ts's byte counter,
 * server.ts's Readable.fromWeb), all on the one JS thread: at 256 KiB that
 * thread was the limit of a template stream to 10 clients (891 MB/s in
 * a quick run of bench/templates.ts; 1263 MB/s at 1 MiB). Memory: about
 * two chunks per download in flight (one read ahead, one being written).
 */
const READ_CHUNK = 1024 * 1024;

export interface ServeFileOptions {
  /** A strong validator known for the content (e.g. its digest); default: size and mtime. */
  etag?: string;
  /** Default: by file extension. */
  contentType?: string;
  /** Extra headers for 200 and 206 answers (e.g. Repr-Digest). */
  headers?: Record<string, string>;
}

export async function serveFile(request: Request, path: string, options: ServeFileOptions = {}): Promise<Response> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch {
    throw notFound();
  }
  let keepOpen = false;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw notFound();
    const etag = options.etag ?? `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const lastModified = stat.mtime.toUTCString();
    const headers: Record<string, string> = {
      'accept-ranges': 'bytes',
      'etag': etag,
      'last-modified': lastModified,
      'content-type': options.contentType ?? CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
      ...options.headers,
    };

    if (notModified(request.headers, etag, stat.mtime)) return new Response(null, { status: 304, headers: { etag, 'last-modified': lastModified } });

    // If-Range (§13.1.5): honour Range only while the client's copy is current.
    const ifRange = request.headers.get('if-range');
    const rangeHeader = ifRange === null || ifRange === etag || ifRange === lastModified ? request.headers.get('range') : null;
    const range = parseRange(rangeHeader, stat.size);
    if (range.kind === 'unsatisfiable') {
      throw new HttpError(416, 'range_not_satisfiable', `Cannot send the requested range: the file is ${stat.size} bytes long`, {
        headers: { 'content-range': `bytes */${stat.size}` },
      });
    }
    const start = range.kind === 'range' ? range.start : 0;
    const end = range.kind === 'range' ? range.end : stat.size - 1;
    const length = end - start + 1;
    headers['content-length'] = String(length);
    if (range.kind === 'range') headers['content-range'] = `bytes ${start}-${end}/${stat.size}`;
    const status = range.kind === 'range' ? 206 : 200;

    if (request.method === 'HEAD' || length === 0) return new Response(null, { status, headers });
    const body = fileBody(handle, start, length);
    keepOpen = true;
    return new Response(body, { status, headers });
  } finally {
    if (!keepOpen) await handle.close();
  }
}

/**
 * @private The bytes [start, start + length) of the open file as a web
 * stream that closes the handle when it ends, fails, or is cancelled
 * (client gone). One read(2) per pull into a fresh buffer, one chunk read
 * ahead. Not Readable.toWeb(handle.createReadStream()): with that adapter
 * the server spent ~2.3 s of CPU per GB of a template stream, with this
 * one ~1.1-1.5 (bench/templates.ts, on loopback), and a template stream is
 * hundreds of MB to each of many clients.
 */
function fileBody(handle: FileHandle, start: number, length: number): ReadableStream<Uint8Array> {
  let position = start;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const size = Math.min(READ_CHUNK, start + length - position);
        const chunk = Buffer.allocUnsafe(size);
        const { bytesRead } = await handle.read(chunk, 0, size, position);
        // Content-Length is sent already: a file that shrank must fail the response, not end it short.
        if (bytesRead === 0) throw new Error(`Cannot send the file: it ended at byte ${position}, before the ${start + length} promised`);
        position += bytesRead;
        controller.enqueue(bytesRead === size ? chunk : chunk.subarray(0, bytesRead));
        if (position === start + length) {
          await close();
          controller.close();
        }
      } catch (e) {
        await close().catch(() => {});
        throw e;
      }
    },
    cancel: close,
  }, { highWaterMark: 1 });
}

/** @private RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since. */
function notModified(headers: Headers, etag: string, mtime: Date): boolean {
  const inm = headers.get('if-none-match');
  if (inm !== null) return inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
  const ims = headers.get('if-modified-since');
  if (ims === null) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(mtime.getTime() / 1000) <= Math.floor(since / 1000);
}

function notFound(): HttpError {
  return new HttpError(404, 'not_found', 'Cannot find the file: no such file under the boot root');
}
