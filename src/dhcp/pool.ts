/**
 * Address policy for authoritative mode: which address a client gets, and
 * whether it may keep the one it asks for. Reservations win; the dynamic
 * range never hands out a reserved address, our own address, the router,
 * or the subnet's network and broadcast addresses. No ICMP probe before an
 * offer (RFC 2131 4.4.1 makes it a SHOULD): the network is trowel's own, and
 * a client that finds the address in use DECLINEs it.
 */
import type { Reservation } from '../config/index.ts';
import { ipv4ToNumber, numberToIpv4 } from '../wire/index.ts';
import type { LeaseStore } from './leases.ts';

export interface PoolConfig {
  range?: { first: string; last: string };
  netmask: string;
  reservations: Reservation[];
  /** Addresses that are never leased dynamically (server, router, DNS). */
  exclude: string[];
}

export class AddressPool {
  private readonly first: number;
  private readonly last: number;
  private readonly byMac = new Map<string, Reservation>();
  private readonly byIp = new Map<string, Reservation>();
  private readonly excluded = new Set<string>();
  private readonly leases: LeaseStore;
  /**
   * Where the search for a never-used address resumes: every dynamic address
   * below it had a lease row when the search passed it. Without it each
   * DISCOVER read every lease (the benchmark showed that taking over half
   * the server's CPU at 10 000 leases).
   */
  private cursor: number;

  constructor(config: PoolConfig, leases: LeaseStore) {
    this.leases = leases;
    this.first = config.range ? ipv4ToNumber(config.range.first) : 1;
    this.last = config.range ? ipv4ToNumber(config.range.last) : 0;
    this.cursor = this.first;
    for (const r of config.reservations) {
      this.byMac.set(r.mac, r);
      this.byIp.set(r.address, r);
    }
    for (const a of config.exclude) this.excluded.add(a);
    if (config.range) {
      const mask = ipv4ToNumber(config.netmask);
      const net = (this.first & mask) >>> 0;
      this.excluded.add(numberToIpv4(net));
      this.excluded.add(numberToIpv4((net | ~mask) >>> 0));
    }
  }

  reservationFor(mac: string): Reservation | undefined {
    return this.byMac.get(mac);
  }

  /**
   * The address to offer `mac`: its reservation; else the address it holds or
   * last held; else the one it asks for (option 50) if that is free; else the
   * first never-used address; else the one that expired longest ago.
   */
  choose(mac: string, requested?: string): string | undefined {
    const reserved = this.byMac.get(mac);
    if (reserved) return reserved.address;
    const previous = this.leases.forMac(mac)?.ip;
    if (previous && this.acceptable(previous, mac)) return previous;
    if (requested && this.acceptable(requested, mac)) return requested;
    for (; this.cursor <= this.last; this.cursor++) {
      const ip = numberToIpv4(this.cursor);
      if (this.dynamic(ip) && !this.leases.get(ip)) return ip;
    }
    // Every address has been used once (or a withdrawn offer freed one below
    // the cursor): the full scan finds a row-less address, else the one that
    // expired longest ago.
    const live = this.leases.liveAddresses();
    const known = new Set(this.leases.expiredAddresses());
    for (let n = this.first; n <= this.last; n++) {
      const ip = numberToIpv4(n);
      if (!live.has(ip) && !known.has(ip) && this.dynamic(ip)) return ip;
    }
    for (const ip of known) if (!live.has(ip) && this.dynamic(ip)) return ip;
    return undefined;
  }

  /** May `mac` hold `ip` now? (RFC 2131 4.3.2: a wrong address in INIT-REBOOT, RENEWING or REBINDING gets a NAK.) */
  acceptable(ip: string, mac: string): boolean {
    const reserved = this.byMac.get(mac);
    if (reserved) return reserved.address === ip;
    return this.dynamic(ip) && this.leases.isFreeFor(ip, mac);
  }

  /** In the range, not reserved for anyone, not excluded. */
  private dynamic(ip: string): boolean {
    let n: number;
    try {
      n = ipv4ToNumber(ip);
    } catch {
      return false;
    }
    return n >= this.first && n <= this.last && !this.byIp.has(ip) && !this.excluded.has(ip);
  }
}
