/**
 * Replies are built from the request by small modifiers, each setting one
 * concern (address, lease times, network options, boot options), then
 * ordered and trimmed for the client. Field rules follow RFC 2131 4.3.1
 * table 3.
 */
import { HEADER_SIZE } from './codec.ts';
import { BootpOp, DhcpOption } from './options.ts';
import type { DhcpPacket } from './packet.ts';
import { maxMessageSize, parameterRequestList } from './packet.ts';
import type { BootChoice } from './pxe.ts';
import { encapsulatedValue, ipv4Value, textValue, u32Value, u8Value } from './values.ts';
import { ipv4ToNumber, numberToIpv4 } from '../wire/index.ts';

export type Modifier = (reply: DhcpPacket, request: DhcpPacket) => void;

/**
 * A reply of `type` to `request`: op BOOTREPLY, the request's xid, flags,
 * giaddr and chaddr (RFC 2131 4.3.1 table 3), everything else empty, then `mods` in order.
 */
export function buildReply(request: DhcpPacket, type: number, ...mods: Modifier[]): DhcpPacket {
  const reply: DhcpPacket = {
    op: BootpOp.reply,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: request.giaddr,
    chaddr: Buffer.from(request.chaddr),
    sname: '',
    file: '',
    options: new Map([[DhcpOption.messageType, u8Value(type)]]),
  };
  for (const mod of mods) mod(reply, request);
  return reply;
}

export function withServerId(address: string): Modifier {
  return (r) => void r.options.set(DhcpOption.serverId, ipv4Value(address));
}

export function withYourAddress(address: string): Modifier {
  return (r) => void (r.yiaddr = address);
}

/** ACK to a client that has an address (RENEWING, REBINDING, INFORM) echoes ciaddr (table 3). */
export const echoClientAddress: Modifier = (r, q) => void (r.ciaddr = q.ciaddr);

/** Lease time with T1 = 0.5 and T2 = 0.875 of it, the RFC 2131 4.4.5 defaults. */
export function withLease(seconds: number): Modifier {
  return (r) => {
    r.options.set(DhcpOption.leaseTime, u32Value(seconds));
    r.options.set(DhcpOption.renewalTime, u32Value(Math.floor(seconds * 0.5)));
    r.options.set(DhcpOption.rebindingTime, u32Value(Math.floor(seconds * 0.875)));
  };
}

export interface NetworkOptions {
  netmask: string;
  router?: string;
  dns: string[];
  domain?: string;
  hostname?: string;
}

/** Options 1, 3, 6, 12, 15 and 28 (broadcast computed from `address` and the netmask). */
export function withNetwork(net: NetworkOptions, address: string): Modifier {
  return (r) => {
    r.options.set(DhcpOption.subnetMask, ipv4Value(net.netmask));
    if (net.router) r.options.set(DhcpOption.router, ipv4Value(net.router));
    if (net.dns.length > 0) r.options.set(DhcpOption.dnsServers, ipv4Value(...net.dns));
    if (net.hostname) r.options.set(DhcpOption.hostname, textValue(net.hostname));
    if (net.domain) r.options.set(DhcpOption.domainName, textValue(net.domain));
    const mask = ipv4ToNumber(net.netmask);
    r.options.set(DhcpOption.broadcastAddress, ipv4Value(numberToIpv4(((ipv4ToNumber(address) & mask) | ~mask) >>> 0)));
  };
}

/** PXE discovery control bit 3 (PXE 2.1 table 2-1, tag 6): boot the file named in this offer, no menu, no discovery. */
const PXE_DISCOVERY_CONTROL = 6;
const USE_BOOT_FILE = 0x08;

/**
 * Boot options: next server and file name in the BOOTP fields (what PXE ROMs
 * read), 66/67 for clients that ask, option 60 naming the protocol (UEFI
 * firmware ignores a PXE or HTTP offer without it), option 43 so PXE
 * firmware boots the file without boot-server discovery, and option 97
 * echoed as PXE 2.1 2.2 asks.
 */
export function withBoot(choice: BootChoice, serverAddress: string): Modifier {
  return (r, q) => {
    r.siaddr = serverAddress;
    r.file = choice.file;
    r.options.set(DhcpOption.vendorClass, textValue(choice.vendorClass));
    if (choice.vendorClass === 'PXEClient') {
      r.options.set(DhcpOption.vendorSpecific, encapsulatedValue([[PXE_DISCOVERY_CONTROL, u8Value(USE_BOOT_FILE)]]));
    }
    const asked = parameterRequestList(q);
    if (asked.includes(DhcpOption.tftpServerName)) r.options.set(DhcpOption.tftpServerName, textValue(serverAddress));
    if (asked.includes(DhcpOption.bootfileName)) r.options.set(DhcpOption.bootfileName, textValue(choice.file));
    const uuid = q.options.get(DhcpOption.clientUuid);
    if (uuid) r.options.set(DhcpOption.clientUuid, Buffer.from(uuid));
  };
}

export function withMessage(text: string): Modifier {
  return (r) => void r.options.set(DhcpOption.message, textValue(text));
}

/** Options that lead every reply: the type and server id (RFC 2131 table 3 MUSTs), then the lease times. */
const LEADING = [DhcpOption.messageType, DhcpOption.serverId, DhcpOption.leaseTime, DhcpOption.renewalTime, DhcpOption.rebindingTime];

/**
 * Orders options as the client asked in option 55 (RFC 2131 3.5: the server
 * "MUST try to insert the requested options in the order requested"), after
 * the mandatory ones, with unrequested extras last. Then keeps, in that
 * order, every option that still fits the client's limit and skips those
 * that don't: option 57 (read as an IP datagram size, so 28 bytes of IP and
 * UDP header come off) or 576 (RFC 2131 2: 312 bytes of options).
 */
export const orderAndFit: Modifier = (r, q) => {
  const order = [...LEADING, ...parameterRequestList(q)];
  const rank = (code: number) => {
    const i = order.indexOf(code);
    return i < 0 ? order.length : i;
  };
  const sorted = [...r.options.entries()].sort(([a], [b]) => rank(a) - rank(b));
  let asked: number | undefined;
  try {
    asked = maxMessageSize(q);
  } catch {
    asked = undefined;
  }
  const limit = Math.max(576, asked ?? 576) - 28;
  // Header, cookie and end option; then each option's pieces as encodeDhcpPacket writes them.
  let size = HEADER_SIZE + 1;
  r.options = new Map();
  for (const [code, value] of sorted) {
    const cost = value.length + 2 * Math.max(1, Math.ceil(value.length / 255));
    if (size + cost > limit && code !== DhcpOption.messageType && code !== DhcpOption.serverId) continue;
    r.options.set(code, value);
    size += cost;
  }
};
