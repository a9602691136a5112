/**
 * Reads a small JSON request body: at most `limit` bytes (413 beyond, checked
 * while reading, not trusting Content-Length alone), 400 when unparsable.
 */
import { HttpError } from './http-error.ts';

export const MAX_JSON_BODY_BYTES = 16 * 1024;

export async function readBody(request: Request, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

/** `expected` completes the 400 message: "Cannot <action>: the body is not JSON; send <expected>". */
export async function readJson(request: Request, action: string, expected: string, limit = MAX_JSON_BODY_BYTES): Promise<unknown> {
  const body = await readBody(request, limit);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', `Cannot ${action}: the body is not JSON; send ${expected}`);
  }
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'payload_too_large', `Cannot read the request: bodies are limited to ${limit} bytes`);
}
