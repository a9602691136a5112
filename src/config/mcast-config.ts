/**
 * The `mcast:` section of trowel.yaml (docs/configuration.md, "mcast"):
 * whether the server streams templates to groups of machines over
 * multicast, from which groups and port, how fast, and how long it gathers
 * machines asking for the same stream before it starts sending.
 */
import { ipv4ToNumber, numberToIpv4 } from '../wire/ipv4.ts';
import type { Section } from './section.ts';

export interface McastConfig {
  enabled: boolean;
  /** The groups sessions take, lowest free first: `count` addresses from `first`. */
  groups: { first: string; count: number };
  /** UDP port of the first session on a group; when every group is busy, sessions take the next ports. */
  port: number;
  /** The sending rate cap, bits per second. */
  rateBitsPerSecond: number;
  /** How long a session gathers machines asking for the same stream before it sends. */
  windowMs: number;
  /** Machines a session waits for before sending (the machines that asked during the window count too). */
  minReceivers: number;
  /** The longest a session waits for its receivers (from its first request) before it sends to those it has. */
  maxWaitMs: number;
  /** How long a receiver may stay silent, or without progress once the data is out, before it is dropped to HTTP. */
  dropAfterMs: number;
  /** Prefix length of a tee's segment: machines whose address shares this many leading bits with the tee's hear its session. */
  teeSegmentBits: number;
}

export const MCAST_KEYS = ['enabled', 'group', 'port', 'rate', 'window', 'minReceivers', 'maxWait', 'dropAfter', 'teeSegment'] as const;
export const DEFAULT_MCAST_GROUP = '239.255.84.0/24';

export function parseMcast(s: Section): McastConfig {
  s.allowKeys(MCAST_KEYS);
  const groupText = s.string('group', DEFAULT_MCAST_GROUP);
  const groups = parseGroupPool(groupText);
  if (typeof groups === 'string') throw s.error(rawOf(s, 'group'), `mcast.group ${groups}`);
  const rateText = s.string('rate', '900M');
  const rate = parseRate(rateText);
  if (rate === undefined) throw s.error(rawOf(s, 'rate'), `mcast.rate must be a rate from 1M to 100G bits per second, like 900M or 1G, not "${rateText}"`);
  const windowMs = s.durationSeconds('window', '10s') * 1000;
  const maxWaitMs = s.durationSeconds('maxWait', '60s') * 1000;
  const dropAfterMs = s.durationSeconds('dropAfter', '10s') * 1000;
  if (dropAfterMs < 2000 || dropAfterMs > 600_000) throw s.error(rawOf(s, 'dropAfter'), `mcast.dropAfter must be from 2s to 10m, not ${dropAfterMs / 1000}s`);
  if (maxWaitMs < windowMs) throw s.error(rawOf(s, 'maxWait'), `mcast.maxWait (${maxWaitMs / 1000}s) must not be shorter than mcast.window (${windowMs / 1000}s)`);
  return {
    enabled: s.boolean('enabled', false),
    groups,
    port: s.integer('port', 9000, 1024, 65535),
    rateBitsPerSecond: rate,
    windowMs,
    minReceivers: s.integer('minReceivers', 1, 1, 10000),
    maxWaitMs,
    dropAfterMs,
    teeSegmentBits: s.integer('teeSegment', 24, 8, 32),
  };
}

/**
 * `A.B.C.D/N` (every address of the block but its first, which would be a
 * network's name elsewhere and reads as "all of them" to people) or one
 * address. Only administratively scoped groups (239.0.0.0/8, RFC 2365) are
 * accepted: they never leave the site, and 224.0.0.0/24 is link-local
 * control traffic (IGMP, routing protocols) that switches flood.
 * Returns the pool, or the problem as the rest of a sentence.
 */
export function parseGroupPool(text: string): { first: string; count: number } | string {
  const m = /^\s*(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?\s*$/.exec(text);
  if (!m) return `must be a multicast address or block like 239.255.84.0/24, not "${text}"`;
  let base: number;
  try {
    base = ipv4ToNumber(m[1]!);
  } catch {
    return `must be a multicast address or block like 239.255.84.0/24, not "${text}"`;
  }
  if (base >>> 24 !== 239) return `must lie in 239.0.0.0/8 (administratively scoped multicast, RFC 2365), not "${text}"`;
  if (m[2] === undefined) return { first: numberToIpv4(base), count: 1 };
  const bits = Number(m[2]);
  if (bits < 16 || bits > 32) return `must have a prefix from /16 to /32, not /${bits}`;
  const size = 2 ** (32 - bits);
  const network = base - (base % size);
  if (network !== base) return `${text} is not the start of its block (did you mean ${numberToIpv4(network)}/${bits}?)`;
  return size === 1 ? { first: numberToIpv4(base), count: 1 } : { first: numberToIpv4(base + 1), count: size - 1 };
}

/** "900M", "1G", "1.5g", "250000k", "900Mbit", or a bare number: bits per second. */
export function parseRate(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg])?(?:bit|bps|b)?(?:\/s)?\s*$/i.exec(text);
  if (!m) return undefined;
  const scale = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  const bits = Number(m[1]) * scale;
  return bits >= 1e6 && bits <= 100e9 ? bits : undefined;
}

/** @private The node of a key, for error positions. */
function rawOf(s: Section, key: string): unknown {
  return s.node?.get(key, true);
}
