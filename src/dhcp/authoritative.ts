/**
 * Full DHCP server for a network trowel owns (RFC 2131): DISCOVER/OFFER,
 * REQUEST/ACK|NAK in every client state, DECLINE, RELEASE, INFORM, with the
 * dynamic range and reservations of `dhcp:` in trowel.yaml, and boot options
 * for PXE, HTTP-boot and iPXE clients.
 */
import type { DhcpConfig } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { DhcpRequest, Handler, HandlerResult } from './handler.ts';
import type { LeaseHolder, LeaseStore } from './leases.ts';
import { bootModifier } from './boot-options.ts';
import { buildReply, echoClientAddress, orderAndFit, withLease, withMessage, withNetwork, withServerId, withYourAddress, type Modifier } from './modifiers.ts';
import { FLAG_BROADCAST, MessageType } from './options.ts';
import { clientId, hostname, requestedAddress, serverIdentifier } from './packet.ts';
import { AddressPool } from './pool.ts';
import { describeBootClient, type BootTargets } from './pxe.ts';

export interface AuthoritativeOptions {
  config: DhcpConfig;
  boot: BootTargets;
  leases: LeaseStore;
  log: Logger;
  /** How long an offered address is held for the client (default 60 s; PXE ROMs can be slow to REQUEST). */
  offerHoldMs?: number;
  /** How long a DECLINEd address stays out of the pool (default 10 min). */
  declineHoldMs?: number;
}

const ZERO = '0.0.0.0';

export class AuthoritativeHandler implements Handler {
  readonly name = 'authoritative';
  private readonly config: DhcpConfig;
  private readonly boot: BootTargets;
  private readonly leases: LeaseStore;
  private readonly log: Logger;
  private readonly pool: AddressPool;
  private readonly offerHoldMs: number;
  private readonly declineHoldMs: number;

  constructor(o: AuthoritativeOptions) {
    this.config = o.config;
    this.boot = o.boot;
    this.leases = o.leases;
    this.log = o.log;
    this.offerHoldMs = o.offerHoldMs ?? 60_000;
    this.declineHoldMs = o.declineHoldMs ?? 600_000;
    const exclude = [o.boot.serverAddress, ...(o.config.router ? [o.config.router] : []), ...o.config.dns];
    this.pool = new AddressPool({ range: o.config.range, netmask: o.config.netmask, reservations: o.config.reservations, exclude }, o.leases);
  }

  handle(req: DhcpRequest): HandlerResult {
    switch (req.type) {
      case MessageType.discover: return this.discover(req);
      case MessageType.request: return this.request(req);
      case MessageType.decline: return this.decline(req);
      case MessageType.release: return this.release(req);
      case MessageType.inform: return this.inform(req);
      default: return { dropped: 'unexpected-type' };
    }
  }

  private discover(req: DhcpRequest): HandlerResult {
    const ip = this.pool.choose(req.mac, requestedAddress(req.packet));
    if (!ip) {
      this.log.warn('dhcp.pool_exhausted', { mac: req.mac, xid: req.packet.xid, range: this.config.range });
      return { dropped: 'pool-exhausted' };
    }
    this.leases.offer(ip, this.holder(req), this.offerHoldMs);
    return { reply: this.grant(req, MessageType.offer, ip) };
  }

  /** RFC 2131 4.3.2: the client's state is told apart by option 54, option 50 and ciaddr. */
  private request(req: DhcpRequest): HandlerResult {
    const p = req.packet;
    const server = serverIdentifier(p);
    const requested = requestedAddress(p);
    if (server !== undefined) {
      // SELECTING: the client picked one server's offer; if not ours, release what we held for it.
      if (server !== this.boot.serverAddress) {
        this.leases.withdrawOffer(req.mac);
        return {};
      }
      if (!requested) return this.nak(req, 'no requested address (option 50) in SELECTING');
      return this.confirm(req, requested);
    }
    // INIT-REBOOT: the client checks the address it remembers (option 50), ciaddr still zero.
    // RFC 2131 has a server without a record of the client stay silent; trowel is authoritative
    // for its network (like dnsmasq's dhcp-authoritative), so a free in-range address is confirmed
    // and anything else NAKed, which moves a client off a stale address at once.
    if (requested !== undefined && p.ciaddr === ZERO) return this.confirm(req, requested);
    // RENEWING (unicast) or REBINDING (broadcast): the address is in ciaddr.
    if (p.ciaddr !== ZERO) return this.confirm(req, p.ciaddr, true);
    return { dropped: 'request-without-address' };
  }

  private confirm(req: DhcpRequest, ip: string, renewing = false): HandlerResult {
    if (!this.pool.acceptable(ip, req.mac)) return this.nak(req, `address ${ip} is not available to this client`);
    this.leases.bind(ip, this.holder(req), this.config.leaseTimeSeconds * 1000);
    return { reply: this.grant(req, MessageType.ack, ip, renewing ? [echoClientAddress] : []) };
  }

  private grant(req: DhcpRequest, type: number, ip: string, extra: Modifier[] = []): ReturnType<typeof buildReply> {
    const boot = bootModifier(req, describeBootClient(req.packet), this.boot, this.log);
    return buildReply(
      req.packet, type,
      withServerId(this.boot.serverAddress),
      withYourAddress(ip),
      ...extra,
      withLease(this.config.leaseTimeSeconds),
      withNetwork({ ...this.config, hostname: this.pool.reservationFor(req.mac)?.hostname }, ip),
      ...(boot ? [boot] : []),
      orderAndFit,
    );
  }

  private nak(req: DhcpRequest, why: string): HandlerResult {
    this.log.info('dhcp.nak', { mac: req.mac, xid: req.packet.xid, reason: why });
    // RFC 2131 4.3.2: a NAK through a relay carries the broadcast bit, the client has no usable address.
    const viaRelay: Modifier = (r) => void (r.giaddr !== ZERO && (r.flags |= FLAG_BROADCAST));
    return { reply: buildReply(req.packet, MessageType.nak, withServerId(this.boot.serverAddress), withMessage(why), viaRelay) };
  }

  /** RFC 2131 4.3.3: the address is in use by someone else (the client saw an ARP reply). */
  private decline(req: DhcpRequest): HandlerResult {
    const ip = requestedAddress(req.packet);
    if (!this.ours(req) || !ip || this.leases.get(ip)?.mac !== req.mac) return { dropped: 'decline-not-ours' };
    this.leases.decline(ip, this.declineHoldMs);
    this.log.warn('dhcp.declined', { mac: req.mac, ip, holdSeconds: this.declineHoldMs / 1000 });
    return {};
  }

  /** RFC 2131 4.3.4: no reply; the address goes back to the pool. */
  private release(req: DhcpRequest): HandlerResult {
    if (!this.ours(req)) return {};
    if (this.leases.release(req.packet.ciaddr, req.mac)) this.log.info('dhcp.released', { mac: req.mac, ip: req.packet.ciaddr });
    return {};
  }

  /** RFC 2131 4.3.5: configuration only; no yiaddr and no lease time. */
  private inform(req: DhcpRequest): HandlerResult {
    const ip = req.packet.ciaddr;
    if (ip === ZERO) return { dropped: 'inform-without-ciaddr' };
    const boot = bootModifier(req, describeBootClient(req.packet), this.boot, this.log);
    return {
      reply: buildReply(
        req.packet, MessageType.ack,
        withServerId(this.boot.serverAddress),
        echoClientAddress,
        withNetwork(this.config, ip),
        ...(boot ? [boot] : []),
        orderAndFit,
      ),
    };
  }

  private ours(req: DhcpRequest): boolean {
    const server = serverIdentifier(req.packet);
    return server === undefined || server === this.boot.serverAddress;
  }

  private holder(req: DhcpRequest): LeaseHolder {
    return { mac: req.mac, clientId: clientId(req.packet), hostname: hostname(req.packet) };
  }
}
