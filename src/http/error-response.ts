/**
 * The one place a thrown error becomes a response. An HttpError is answered
 * with its status as `{ "error": { "code", "message" } }`; anything else is a
 * bug in a handler: it is logged with its stack and answered 500 with a
 * generic message, so no stack trace or internal detail reaches the client.
 */
import type { Logger } from '../log/logger.ts';
import { HttpError } from './http-error.ts';
import { json } from './respond.ts';

export interface ErrorContext {
  method: string;
  path: string;
  peer: string;
}

export function renderError(err: unknown, log: Logger, ctx: ErrorContext): Response {
  if (err instanceof HttpError) {
    return json({ error: { code: err.code, message: err.message } }, err.status, err.headers);
  }
  log.error('handler_crashed', {
    ...ctx,
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return json({ error: { code: 'internal_error', message: 'Cannot answer the request: internal server error (see the server log)' } }, 500);
}
