import { ipv4ToBytes } from './writer.ts';

/** IPv4 address as an unsigned 32-bit number, for range arithmetic. */
export function ipv4ToNumber(address: string): number {
  return ipv4ToBytes(address).readUInt32BE(0);
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

export function isIpv4(address: string): boolean {
  try {
    ipv4ToBytes(address);
    return true;
  } catch {
    return false;
  }
}
