/**
 * Option negotiation for a read request (RFC 2347): which of the client's
 * options the server accepts, the values it answers in the OACK, and the
 * transfer parameters that follow. Pure: the request's options and the
 * server's limits in, a decision out.
 */
import type { TftpOption } from './codec.ts';

/** RFC 1350 block size, used when blksize is not negotiated. */
export const DEFAULT_BLOCK_SIZE = 512;
/** RFC 2348 bounds for blksize. */
export const MIN_BLOCK_SIZE = 8;
export const MAX_BLOCK_SIZE = 65464;
/** 1500 (Ethernet MTU) - 20 (IPv4) - 8 (UDP) - 4 (TFTP header): one DATA per frame, no IP fragments. */
export const DEFAULT_MAX_BLOCK_SIZE = 1468;
/** RFC 7440 bounds for windowsize. */
export const MAX_WINDOW_SIZE = 65535;
/**
 * The server's default cap. 64 blocks of 1468 bytes (~94 KB) fit in Linux's
 * default 208 KiB socket receive buffer, so a window does not overrun the
 * client; beyond ~32 the gain is small on a LAN anyway.
 */
export const DEFAULT_MAX_WINDOW_SIZE = 64;
/** Retransmission timeout when the client does not ask for one (RFC 2349 allows 1..255 s). */
export const DEFAULT_TIMEOUT_MS = 1000;

export interface NegotiationLimits {
  maxBlockSize: number;
  maxWindowSize: number;
  /** Size the client will receive, for tsize; undefined when not known in advance (netascii). */
  transferSize: number | undefined;
}

export interface Negotiated {
  blockSize: number;
  windowSize: number;
  timeoutMs: number;
  /** Accepted options in the client's order; empty means "send no OACK, start with DATA 1". */
  oack: TftpOption[];
}

/** Only plain decimal integers: "+5", "0x10", "1e3" and " 5" are not option values. */
function decimal(value: string): number | undefined {
  return /^\d{1,10}$/.test(value) ? Number(value) : undefined;
}

/**
 * Applies RFC 2347/2348/2349/7440. An option the server cannot honour is left
 * out of the OACK (RFC 2347 allows ignoring it) instead of failing the
 * transfer; unknown options and repeats of an option are ignored.
 */
export function negotiate(requested: readonly TftpOption[], limits: NegotiationLimits): Negotiated {
  const result: Negotiated = { blockSize: DEFAULT_BLOCK_SIZE, windowSize: 1, timeoutMs: DEFAULT_TIMEOUT_MS, oack: [] };
  const seen = new Set<string>();
  for (const { name, value } of requested) {
    if (seen.has(name)) continue;
    seen.add(name);
    const n = decimal(value);
    if (n === undefined) continue;
    switch (name) {
      case 'blksize': {
        // RFC 2348: 8..65464; the server may answer a smaller size than asked.
        if (n < MIN_BLOCK_SIZE) break;
        result.blockSize = Math.min(n, limits.maxBlockSize, MAX_BLOCK_SIZE);
        result.oack.push({ name, value: String(result.blockSize) });
        break;
      }
      case 'tsize': {
        // RFC 2349: in a read request the client sends 0 and the server answers the size.
        if (limits.transferSize === undefined) break;
        result.oack.push({ name, value: String(limits.transferSize) });
        break;
      }
      case 'timeout': {
        // RFC 2349: 1..255 seconds; the server must answer the same value or leave it out.
        if (n < 1 || n > 255) break;
        result.timeoutMs = n * 1000;
        result.oack.push({ name, value });
        break;
      }
      case 'windowsize': {
        // RFC 7440: 1..65535; the server may answer a smaller window.
        if (n < 1 || n > MAX_WINDOW_SIZE) break;
        result.windowSize = Math.min(n, limits.maxWindowSize);
        result.oack.push({ name, value: String(result.windowSize) });
        break;
      }
    }
  }
  return result;
}
