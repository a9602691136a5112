/**
 * Builders for option values (the bytes after code and length), RFC 2132
 * formats: addresses, 16/32-bit numbers, text, and encapsulated sub-options.
 */
import { ipv4ToBytes } from '../wire/index.ts';
import { DhcpOption } from './options.ts';

export function ipv4Value(...addresses: string[]): Buffer {
  return Buffer.concat(addresses.map(ipv4ToBytes));
}

export function u32Value(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function u8Value(n: number): Buffer {
  return Buffer.from([n & 0xff]);
}

export function textValue(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** Sub-options (code, length, value) closed by an end byte, as option 43 carries them (RFC 2132 8.4). */
export function encapsulatedValue(sub: ReadonlyArray<readonly [number, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of sub) {
    if (value.length > 255) throw new RangeError(`Cannot encode sub-option ${code}: ${value.length} bytes exceeds 255`);
    parts.push(Buffer.from([code, value.length]), value);
  }
  parts.push(Buffer.from([DhcpOption.end]));
  return Buffer.concat(parts);
}
