/**
 * Which group and port a session takes (pure). Sessions that run at the
 * same time get different groups first, so a machine's NIC filter (and an
 * IGMP-snooping switch) keeps each receiver to its own session's traffic;
 * only when every group of the pool is taken do sessions share a group on
 * the next ports. The lowest free slot is reused as soon as it is freed.
 */
import { ipv4ToNumber, numberToIpv4 } from '../wire/ipv4.ts';

export interface GroupPool {
  first: string;
  count: number;
}

export interface Slot {
  index: number;
  group: string;
  port: number;
}

/** The endpoint of slot `index`. */
export function slotEndpoint(pool: GroupPool, basePort: number, index: number): Slot {
  const port = basePort + Math.floor(index / pool.count);
  if (port > 65535) throw new RangeError(`Cannot place multicast session ${index}: no port is left above ${basePort}`);
  return { index, group: numberToIpv4(ipv4ToNumber(pool.first) + (index % pool.count)), port };
}

/** The lowest slot not in `taken`. */
export function freeSlot(pool: GroupPool, basePort: number, taken: ReadonlySet<number>): Slot {
  let index = 0;
  while (taken.has(index)) index += 1;
  return slotEndpoint(pool, basePort, index);
}
