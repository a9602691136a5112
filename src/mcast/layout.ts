/**
 * How a file maps onto packets: datagram and block size from the path MTU,
 * block and group counts. A block travels as one UDP datagram of about
 * 9 KB: one jumbo frame where the interface has them, else a few whole IP
 * fragments of the MTU that the receiving kernel puts back together.
 * Per-datagram CPU, not bandwidth, limits Node on both ends (~5 µs a
 * datagram in dgram whatever its size), so fewer, larger datagrams carry
 * the same bytes for a fraction of the CPU (docs/multicast.md, "Datagrams").
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { TrowelError } from '../errors.ts';
import { BLOCK_PACKET_OVERHEAD } from './packet.ts';

/** IPv4 header without options + UDP header. */
export const IP_UDP_OVERHEAD = 28;
export const MIN_MTU = 576;
/** A UDP payload's limit is 65507; blocks stay far below so a jumbo frame is the practical top. */
export const MAX_MTU = 65000;

const IP_HEADER = 20;
/** Datagrams are made of as many whole MTU fragments as fit in this many bytes. */
export const TARGET_DATAGRAM = 9000;
/** Fragments per datagram at most: one lost fragment loses them all. */
export const MAX_FRAGMENTS = 16;

/** IP payload bytes per fragment at `mtu`: fragment offsets count 8-byte units. */
function fragmentPayload(mtu: number): number {
  return (mtu - IP_HEADER) & ~7;
}

/** Fragments per datagram by default: as many as fit in TARGET_DATAGRAM, at least one (6 at MTU 1500, 1 at 9000). */
export function defaultFragments(mtu: number): number {
  return Math.max(1, Math.floor((TARGET_DATAGRAM - IP_HEADER) / fragmentPayload(mtu)));
}

/**
 * The IP datagram size for `fragments` whole fragments at `mtu` (8900 for 6
 * at MTU 1500); one fragment is the MTU itself.
 */
export function datagramSize(mtu: number, fragments: number): number {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) throw new RangeError(`Cannot use MTU ${mtu}: give ${MIN_MTU} to ${MAX_MTU}`);
  if (!Number.isInteger(fragments) || fragments < 1 || fragments > MAX_FRAGMENTS) throw new RangeError(`Cannot send datagrams of ${fragments} fragments: give 1 to ${MAX_FRAGMENTS}`);
  if (fragments === 1) return mtu;
  const size = fragments * fragmentPayload(mtu) + IP_HEADER;
  if (size > MAX_MTU) throw new RangeError(`Cannot send datagrams of ${fragments} fragments at MTU ${mtu}: ${size} bytes is over ${MAX_MTU}`);
  return size;
}

/**
 * Payload bytes per DATA/PARITY packet so the whole IP datagram is
 * `datagram` bytes at most, rounded down to a multiple of 4 so the FEC
 * loops can work on 32-bit words (1436 for 1500, 8836 for 8900, 8936 for 9000).
 */
export function blockSizeForDatagram(datagram: number): number {
  if (!Number.isInteger(datagram) || datagram < MIN_MTU || datagram > MAX_MTU) throw new RangeError(`Cannot send ${datagram}-byte datagrams: give ${MIN_MTU} to ${MAX_MTU}`);
  return (datagram - IP_UDP_OVERHEAD - BLOCK_PACKET_OVERHEAD) & ~3;
}

/** The block size a sender uses at `mtu` unless told otherwise. */
export function defaultBlockSize(mtu: number): number {
  return blockSizeForDatagram(datagramSize(mtu, defaultFragments(mtu)));
}

export interface Layout {
  totalBytes: number;
  blockSize: number;
  blockCount: number;
  groupSize: number;
  groupCount: number;
}

export function layoutFor(totalBytes: number, blockSize: number, groupSize: number): Layout {
  const blockCount = Math.ceil(totalBytes / blockSize);
  if (blockCount > 0xffffffff) throw new RangeError(`Cannot send ${totalBytes} bytes in ${blockSize}-byte blocks: over 2^32 blocks`);
  return { totalBytes, blockSize, blockCount, groupSize, groupCount: Math.ceil(blockCount / groupSize) };
}

/** Data blocks in group `g` (the last group may be short). */
export function groupLength(layout: Layout, g: number): number {
  return Math.min(layout.groupSize, layout.blockCount - g * layout.groupSize);
}

/** Bytes in block `b` (the last block may be short). */
export function blockLength(layout: Layout, b: number): number {
  return Math.min(layout.blockSize, layout.totalBytes - b * layout.blockSize);
}

/** The MTU of the interface holding `address`, from sysfs. */
export function interfaceMtu(address: string): number {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (!addrs?.some((a) => a.family === 'IPv4' && a.address === address)) continue;
    try {
      return Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim());
    } catch (e) {
      throw new TrowelError('EMCAST_MTU', `Cannot read the MTU of ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
  }
  throw new TrowelError('EMCAST_INTERFACE', `Cannot find an interface with address ${address}`, {
    hint: 'give the IPv4 address of a local interface (ip -4 addr)',
  });
}
