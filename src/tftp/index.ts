/**
 * Read-only TFTP server: RFC 1350 with options blksize (RFC 2348), tsize and
 * timeout (RFC 2349) and windowsize (RFC 7440).
 */
import type { Logger } from '../log/logger.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';

export interface TftpServerOptions {
  root: string;
  port: number;                  // 69 in production; tests may use others
  bindAddress?: string;          // default '0.0.0.0'
  maxBlockSize?: number;         // default 1468
  maxWindowSize?: number;        // default 64 (see DEFAULT_MAX_WINDOW_SIZE in options.ts)
  dynamicFile?: (path: string, client: { address: string; port: number }) => Buffer | undefined | Promise<Buffer | undefined>;
  metrics: MetricsRegistry;
  log: Logger;
}

export interface TftpServer { readonly port: number; close(): Promise<void> }

export { startTftpServer } from './server.ts';
