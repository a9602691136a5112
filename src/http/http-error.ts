/**
 * The one error type HTTP handlers throw. It says which status to answer,
 * a stable snake_case `code` for scripts and the CLI, a one-line message,
 * and optional extra headers (e.g. `Allow` on 405, `WWW-Authenticate` on 401).
 * Only `renderError` (error-response.ts) turns it into a response.
 */
import { TrowelError } from '../errors.ts';

export class HttpError extends TrowelError {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, options: { headers?: Record<string, string>; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.headers = options.headers ?? {};
  }
}
