/**
 * Real-client DHCP packets captured by test/helpers/dhcp-capture.ts, and a
 * plain view of a packet (options as [code, hex] pairs in wire order) so
 * tests compare whole packets, order included, with readable diffs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DhcpPacket } from '../../src/dhcp/packet.ts';

const DIR = join(import.meta.dirname, '../fixtures/dhcp');

export function fixtureNames(): string[] {
  return readdirSync(DIR).filter((f) => f.endsWith('.hex')).map((f) => f.slice(0, -4)).sort();
}

export function loadFixture(name: string): Buffer {
  const text = readFileSync(join(DIR, `${name}.hex`), 'utf8');
  return Buffer.from(text.split('\n').filter((l) => !l.startsWith('#')).join('').trim(), 'hex');
}

export type PacketView = Omit<DhcpPacket, 'chaddr' | 'options'> & { chaddr: string; options: [number, string][] };

export function view(p: DhcpPacket): PacketView {
  return { ...p, chaddr: p.chaddr.toString('hex'), options: [...p.options].map(([k, v]) => [k, v.toString('hex')]) };
}

/** Bytes from hex written with spaces and line breaks for reading. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}
