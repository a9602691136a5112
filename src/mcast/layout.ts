/**
 * How a file maps onto packets: block size from the path MTU, block and
 * group counts. Blocks fill a whole Ethernet frame (jumbo when the
 * interface has it) because per-packet CPU, not bandwidth, limits Node on
 * both ends.
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

/**
 * Payload bytes per DATA/PARITY packet so the whole IP datagram fits `mtu`,
 * rounded down to a multiple of 4 so the FEC loops can work on 32-bit words
 * (1436 at MTU 1500, 8936 at 9000).
 */
export function blockSizeForMtu(mtu: number): number {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) throw new RangeError(`Cannot use MTU ${mtu}: give ${MIN_MTU} to ${MAX_MTU}`);
  return (mtu - IP_UDP_OVERHEAD - BLOCK_PACKET_OVERHEAD) & ~3;
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
