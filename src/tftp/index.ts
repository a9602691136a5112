/**
 * Read-only TFTP server: RFC 1350 with options blksize (RFC 2348), tsize and
 * timeout (RFC 2349) and windowsize (RFC 7440).
 *
 * - Every transfer has its own ephemeral port (the server's TID): a socket
 *   connected to the client, and one that answers other TIDs with error 5.
 * - Write requests are refused with error 2 (access violation).
 * - Requested names are resolved inside `root`: a leading `/` is stripped,
 *   `\` counts as `/`, a `..` that would leave the root and a symlink whose
 *   target lies outside it are refused with error 2 (see paths.ts).
 * - `dynamicFile` is asked first, with that normalized relative path (e.g.
 *   `pxelinux.cfg/01-52-54-00-00-00-01`); returning a Buffer serves it,
 *   `undefined` falls through to the filesystem, throwing answers error 0.
 * - Mode `octet` is served as is; `netascii` is converted (LF → CR LF,
 *   CR → CR NUL) and then answers no tsize; `mail` is refused with error 4.
 * - Metrics: trowel_tftp_transfers_total{result="ok|error|timeout|refused"},
 *   trowel_tftp_bytes_total (DATA payload sent, retransmissions included),
 *   trowel_tftp_active_transfers.
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
