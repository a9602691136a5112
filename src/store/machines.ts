/**
 * The machine registry: one row per MAC, created on first DHCP contact.
 * The boot action decides what the machine's next iPXE script does.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from './database.ts';
import type { MachinePlan } from './plan.ts';
import { StatementCache } from './statements.ts';

export const BootAction = { discover: 'discover', provision: 'provision', local: 'local' } as const;
export type BootAction = (typeof BootAction)[keyof typeof BootAction];
export const BOOT_ACTIONS = Object.values(BootAction);

export interface Machine {
  mac: string;
  arch: number | null;
  uuid: string | null;
  hostname: string | null;
  ip: string | null;
  action: BootAction;
  state: string;
  token: string;
  firstSeen: number;
  lastSeen: number;
  plan: MachinePlan | null;
}

export interface Contact {
  mac: string;
  arch?: number;
  uuid?: string;
  ip?: string;
  hostname?: string;
}

type Row = { mac: string; arch: number | null; uuid: string | null; hostname: string | null; ip: string | null; action: BootAction; state: string; token: string; first_seen: number; last_seen: number; plan: string | null };

function fromRow(r: Row): Machine {
  return { mac: r.mac, arch: r.arch, uuid: r.uuid, hostname: r.hostname, ip: r.ip, action: r.action, state: r.state, token: r.token, firstSeen: r.first_seen, lastSeen: r.last_seen, plan: r.plan ? (JSON.parse(r.plan) as MachinePlan) : null };
}

export class MachineStore {
  private readonly now: () => number;
  private readonly statements: StatementCache;

  constructor(db: Database, now: () => number = Date.now) {
    this.now = now;
    this.statements = new StatementCache(db);
  }

  /** Creates the machine on first contact, else refreshes what it told us (keeps known values it didn't resend). */
  recordContact(c: Contact): Machine {
    const t = this.now();
    this.statements
      .get(
        `INSERT INTO machines (mac, arch, uuid, ip, hostname, token, first_seen, last_seen)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (mac) DO UPDATE SET
           arch = coalesce(excluded.arch, arch), uuid = coalesce(excluded.uuid, uuid),
           ip = coalesce(excluded.ip, ip), hostname = coalesce(hostname, excluded.hostname),
           last_seen = excluded.last_seen`,
      )
      .run(c.mac, c.arch ?? null, c.uuid ?? null, c.ip ?? null, c.hostname ?? null, randomBytes(24).toString('hex'), t, t);
    return this.get(c.mac)!;
  }

  get(mac: string): Machine | undefined {
    const row = this.statements.get('SELECT * FROM machines WHERE mac = ?').get(mac) as Row | undefined;
    return row && fromRow(row);
  }

  list(): Machine[] {
    return (this.statements.get('SELECT * FROM machines ORDER BY last_seen DESC').all() as Row[]).map(fromRow);
  }

  /** Returns false when no such machine exists. */
  setAction(mac: string, action: BootAction): boolean {
    return this.statements.get('UPDATE machines SET action = ? WHERE mac = ?').run(action, mac).changes > 0;
  }

  /** Stores (or clears, with null) the machine's provisioning plan. */
  setPlan(mac: string, plan: MachinePlan | null): boolean {
    return this.statements.get('UPDATE machines SET plan = ? WHERE mac = ?').run(plan ? JSON.stringify(plan) : null, mac).changes > 0;
  }

  /** Stores the hardware inventory the machine reported (JSON text, checked by the caller). */
  setInventory(mac: string, inventory: string): boolean {
    return this.statements.get('UPDATE machines SET inventory = ?, inventory_at = ? WHERE mac = ?').run(inventory, this.now(), mac).changes > 0;
  }

  /** The last inventory the machine reported, or undefined when it sent none (or is unknown). */
  getInventory(mac: string): { inventory: string; receivedAt: number } | undefined {
    const row = this.statements.get('SELECT inventory, inventory_at FROM machines WHERE mac = ?').get(mac) as { inventory: string | null; inventory_at: number | null } | undefined;
    return row?.inventory ? { inventory: row.inventory, receivedAt: row.inventory_at ?? 0 } : undefined;
  }

  setState(mac: string, state: string): boolean {
    return this.statements.get('UPDATE machines SET state = ? WHERE mac = ?').run(state, mac).changes > 0;
  }

  findByToken(token: string): Machine | undefined {
    const row = this.statements.get('SELECT * FROM machines WHERE token = ?').get(token) as Row | undefined;
    return row && fromRow(row);
  }
}
