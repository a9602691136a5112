/**
 * The one interface both DHCP policies implement (authoritative and proxy),
 * as in smee: the read loop decodes and routes, a handler decides, and the
 * reply goes back through the loop. Handlers are synchronous and own no
 * sockets, so tests drive them with packets and compare whole replies.
 */
import type { DhcpPacket } from './packet.ts';

export interface DhcpRequest {
  packet: DhcpPacket;
  /** Client MAC from chaddr, lowercase colon form. */
  mac: string;
  /** Option 53. */
  type: number;
  /** Which port the request came in on: the DHCP port, or the PXE boot server port 4011. */
  via: 'dhcp' | 'pxe';
}

export interface HandlerResult {
  /** The reply to send, if any. */
  reply?: DhcpPacket;
  /**
   * Set when the handler refuses the request (a metric label and log reason),
   * as opposed to messages that by protocol get no answer (RELEASE, DECLINE).
   */
  dropped?: string;
}

export interface Handler {
  readonly name: string;
  handle(request: DhcpRequest): HandlerResult;
}
