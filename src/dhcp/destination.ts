/**
 * Where a reply goes (RFC 2131 4.1, "the server ... sends"):
 * - through a relay (giaddr set): to the relay's server port;
 * - a NAK without a relay: broadcast, the client's address is in doubt;
 * - a client that has an address (ciaddr set): unicast to it;
 * - otherwise broadcast to 255.255.255.255. The RFC prefers unicasting to
 *   yiaddr and chaddr, but the client can't answer ARP for an address it
 *   doesn't have yet, so that needs a raw socket to write the Ethernet
 *   header or an ARP table entry, neither of which Node's dgram can do.
 *   Every client accepts the broadcast.
 * PXE requests on port 4011 come from a configured client and are answered
 * where they came from (PXE 2.1 2.2.3). Client port is the server port + 1
 * (68 for 67), the convention of udhcpc's and dnsmasq's alternate ports.
 */
import { MessageType } from './options.ts';
import { messageType, type DhcpPacket } from './packet.ts';

export interface Endpoint {
  address: string;
  port: number;
}

export interface DestinationContext {
  via: 'dhcp' | 'pxe';
  peer: Endpoint;
  /** Port the DHCP socket listens on (67). */
  serverPort: number;
  /**
   * Bound to loopback (tests, tools on this host): there is no broadcast
   * domain, and the only client that can be there is the one that sent, so
   * every reply goes back to the sender.
   */
  loopback: boolean;
}

const ZERO = '0.0.0.0';
export const BROADCAST = '255.255.255.255';

export function replyDestination(request: DhcpPacket, reply: DhcpPacket, ctx: DestinationContext): Endpoint {
  if (request.giaddr !== ZERO) return { address: request.giaddr, port: ctx.serverPort };
  if (ctx.via === 'pxe' || ctx.loopback) return ctx.peer;
  const clientPort = ctx.serverPort + 1;
  if (messageType(reply) !== MessageType.nak && request.ciaddr !== ZERO) return { address: request.ciaddr, port: clientPort };
  return { address: BROADCAST, port: clientPort };
}
