/**
 * Leases in the SQLite `leases` table (src/store/schema.ts), one row per
 * address. Rows are written before the reply goes out, so a crash never
 * hands one address to two clients, and they survive a restart.
 *
 * Leases are keyed by MAC, not by option 61: one machine passes through its
 * PXE ROM, iPXE, the provisioning image and the installed OS, each with its
 * own client identifier (or none), and should keep one address throughout.
 * An expired row stays as a memory of who last had the address, so the same
 * machine gets it back while others take never-used addresses first
 * (RFC 2131 4.3.1 prefers a client's previous address).
 */
import type { StatementSync } from 'node:sqlite';
import { StatementCache, type Database } from '../store/index.ts';

export const LeaseState = { offered: 'offered', bound: 'bound', declined: 'declined' } as const;
export type LeaseState = (typeof LeaseState)[keyof typeof LeaseState];

export interface Lease {
  ip: string;
  mac: string | null;
  clientId: string | null;
  hostname: string | null;
  state: LeaseState;
  expiresAt: number;
}

export interface LeaseHolder {
  mac: string;
  clientId?: string;
  hostname?: string;
}

type Row = { ip: string; mac: string | null; client_id: string | null; hostname: string | null; state: LeaseState; expires_at: number };

function fromRow(r: Row): Lease {
  return { ip: r.ip, mac: r.mac, clientId: r.client_id, hostname: r.hostname, state: r.state, expiresAt: r.expires_at };
}

export class LeaseStore {
  readonly now: () => number;
  private readonly statements: StatementCache;

  constructor(db: Database, now: () => number = Date.now) {
    this.now = now;
    this.statements = new StatementCache(db);
  }

  get(ip: string): Lease | undefined {
    const row = this.sql('SELECT * FROM leases WHERE ip = ?').get(ip) as Row | undefined;
    return row && fromRow(row);
  }

  /** The address this MAC holds or last held (live rows first, then the most recent). */
  forMac(mac: string): Lease | undefined {
    const row = this.sql(`SELECT * FROM leases WHERE mac = ? AND state != 'declined' ORDER BY (expires_at > ?) DESC, expires_at DESC LIMIT 1`)
      .get(mac, this.now()) as Row | undefined;
    return row && fromRow(row);
  }

  /** True when nobody else holds `ip` right now (no row, an expired row, or `mac`'s own row). */
  isFreeFor(ip: string, mac: string): boolean {
    const lease = this.get(ip);
    if (!lease || lease.expiresAt <= this.now()) return true;
    return lease.state !== LeaseState.declined && lease.mac === mac;
  }

  /** Holds `ip` for `holder` while the client decides; a live binding of the same client is left alone. */
  offer(ip: string, holder: LeaseHolder, holdMs: number): void {
    const current = this.get(ip);
    if (current?.state === LeaseState.bound && current.mac === holder.mac && current.expiresAt > this.now()) return;
    this.write(ip, holder, LeaseState.offered, this.now() + holdMs);
  }

  bind(ip: string, holder: LeaseHolder, leaseMs: number): void {
    // One live address per machine: a client moving to a new address gives up the old one.
    this.sql(`UPDATE leases SET expires_at = min(expires_at, ?) WHERE mac = ? AND ip != ? AND state != 'declined'`).run(this.now(), holder.mac, ip);
    this.write(ip, holder, LeaseState.bound, this.now() + leaseMs);
  }

  /** RELEASE (RFC 2131 4.3.4): the address is free, the row stays as a preference. */
  release(ip: string, mac: string): boolean {
    return this.sql(`UPDATE leases SET expires_at = min(expires_at, ?) WHERE ip = ? AND mac = ? AND state != 'declined'`).run(this.now(), ip, mac).changes > 0;
  }

  /** Forgets an offer the client turned down for another server's (RFC 2131 4.3.2 SELECTING). */
  withdrawOffer(mac: string): void {
    this.sql(`DELETE FROM leases WHERE mac = ? AND state = 'offered'`).run(mac);
  }

  /** DECLINE (RFC 2131 4.3.3): someone else answers ARP for `ip`; keep it out of the pool for `holdMs`. */
  decline(ip: string, holdMs: number): void {
    this.sql(`INSERT INTO leases (ip, mac, client_id, hostname, state, expires_at) VALUES (?, NULL, NULL, NULL, 'declined', ?)
                ON CONFLICT (ip) DO UPDATE SET mac = NULL, client_id = NULL, hostname = NULL, state = 'declined', expires_at = excluded.expires_at`)
      .run(ip, this.now() + holdMs);
  }

  /** Addresses that are taken right now (live rows of any state). */
  liveAddresses(): Set<string> {
    const rows = this.sql('SELECT ip FROM leases WHERE expires_at > ?').all(this.now()) as { ip: string }[];
    return new Set(rows.map((r) => r.ip));
  }

  /** Expired rows, oldest first: reused only when no address was ever handed out. */
  expiredAddresses(): string[] {
    const rows = this.sql('SELECT ip FROM leases WHERE expires_at <= ? ORDER BY expires_at').all(this.now()) as { ip: string }[];
    return rows.map((r) => r.ip);
  }

  list(): Lease[] {
    return (this.sql('SELECT * FROM leases ORDER BY ip').all() as Row[]).map(fromRow);
  }

  private sql(text: string): StatementSync {
    return this.statements.get(text);
  }

  private write(ip: string, h: LeaseHolder, state: LeaseState, expiresAt: number): void {
    this.sql(`INSERT INTO leases (ip, mac, client_id, hostname, state, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (ip) DO UPDATE SET mac = excluded.mac, client_id = excluded.client_id,
                  hostname = excluded.hostname, state = excluded.state, expires_at = excluded.expires_at`)
      .run(ip, h.mac, h.clientId ?? null, h.hostname ?? null, state, expiresAt);
  }
}
