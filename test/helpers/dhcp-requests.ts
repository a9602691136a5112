/**
 * Requests for handler tests: the real captures from test/fixtures/dhcp,
 * adjusted one field or option at a time. Config matches the capture network
 * (10.99.0.0/24, server 10.99.0.1) so captured REQUESTs make sense as they are.
 */
import type { DhcpConfig } from '../../src/config/index.ts';
import { parseDhcpPacket } from '../../src/dhcp/codec.ts';
import type { DhcpRequest } from '../../src/dhcp/handler.ts';
import { clientMac, messageType, type DhcpPacket } from '../../src/dhcp/packet.ts';
import { hex, loadFixture } from './dhcp-fixtures.ts';

export const BOOT = { serverAddress: '10.99.0.1', httpPort: 8080 };

export function dhcpConfig(overrides: Partial<DhcpConfig> = {}): DhcpConfig {
  return {
    mode: 'authoritative',
    range: { first: '10.99.0.100', last: '10.99.0.150' },
    netmask: '255.255.255.0',
    leaseTimeSeconds: 3600,
    router: '10.99.0.1',
    dns: ['10.99.0.1'],
    domain: 'lab',
    reservations: [],
    port: 67,
    proxyPort: 4011,
    ...overrides,
  };
}

export interface Change {
  set?: Record<number, string>;
  remove?: number[];
  fields?: Partial<Omit<DhcpPacket, 'options'>>;
  mac?: string;
}

/** A captured packet with some options set (hex) or removed and some fields replaced. */
export function request(fixture: string, change: Change = {}, via: 'dhcp' | 'pxe' = 'dhcp'): DhcpRequest {
  const p = parseDhcpPacket(loadFixture(fixture));
  for (const code of change.remove ?? []) p.options.delete(code);
  for (const [code, value] of Object.entries(change.set ?? {})) p.options.set(Number(code), hex(value));
  Object.assign(p, change.fields ?? {});
  if (change.mac) hex(change.mac.replaceAll(':', '')).copy(p.chaddr, 0);
  return { packet: p, mac: clientMac(p)!, type: messageType(p)!, via };
}

export function textHex(s: string): string {
  return Buffer.from(s, 'latin1').toString('hex');
}
