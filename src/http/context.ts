/** What every route handler receives, and the handler shape itself. */
import type { Logger } from '../log/logger.ts';

export interface RequestContext {
  request: Request;
  url: URL;
  /** Path parameters: `:name` values percent-decoded, `*` (the rest of the path) left raw. */
  params: Record<string, string>;
  /** The client's address as the socket saw it, or "in-process" when called without a server. */
  peer: string;
  log: Logger;
}

export type Handler = (c: RequestContext) => Response | Promise<Response>;

/** Extra facts the node:http adapter hands to `app.fetch` alongside the Request. */
export interface ConnectionInfo {
  remoteAddress?: string;
}
