/**
 * What machines report while they provision: one row per step event or log
 * line, in arrival order. The server keeps them for `trowel machines events`,
 * the dashboard and the benchmarks (time per step).
 */
import type { Database } from './database.ts';

export const EventKind = { step: 'step', log: 'log' } as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

export interface StoredEvent {
  id: number;
  mac: string;
  at: number;
  kind: EventKind;
  data: Record<string, unknown>;
}

type Row = { id: number; mac: string; at: number; kind: EventKind; data: string };

/** Sees each event right after it is stored (the live event stream); must not throw. */
export type AppendListener = (event: StoredEvent) => void;

function fromRow(r: Row): StoredEvent {
  return { id: r.id, mac: r.mac, at: r.at, kind: r.kind, data: JSON.parse(r.data) as Record<string, unknown> };
}

export class EventStore {
  private readonly db: Database;
  private readonly now: () => number;
  private readonly listeners = new Set<AppendListener>();

  constructor(db: Database, now: () => number = Date.now) {
    this.db = db;
    this.now = now;
  }

  append(mac: string, kind: EventKind, data: Record<string, unknown>): StoredEvent {
    const at = this.now();
    const { lastInsertRowid } = this.db.prepare('INSERT INTO events (mac, at, kind, data) VALUES (?, ?, ?, ?)').run(mac, at, kind, JSON.stringify(data));
    const event: StoredEvent = { id: Number(lastInsertRowid), mac, at, kind, data };
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Calls `listener` with every event appended from now on; returns the function that stops it. */
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The newest `limit` events of all machines, oldest first. */
  recent(limit: number): StoredEvent[] {
    const rows = this.db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(limit) as Row[];
    return rows.reverse().map(fromRow);
  }

  /** Each machine's newest step event (where a dashboard starts: step, progress, rate). */
  latestSteps(): StoredEvent[] {
    const rows = this.db
      .prepare("SELECT e.* FROM events e JOIN (SELECT max(id) AS id FROM events WHERE kind = 'step' GROUP BY mac) last ON e.id = last.id ORDER BY e.id")
      .all() as Row[];
    return rows.map(fromRow);
  }

  /** Events of one machine after `afterId`, oldest first, at most `limit`. */
  list(mac: string, options: { afterId?: number; limit?: number; kind?: EventKind } = {}): StoredEvent[] {
    const rows = this.db
      .prepare(`SELECT * FROM events WHERE mac = ? AND id > ? ${options.kind ? 'AND kind = ?' : ''} ORDER BY id LIMIT ?`)
      .all(...([mac, options.afterId ?? 0, ...(options.kind ? [options.kind] : []), options.limit ?? 1000] as (string | number)[])) as Row[];
    return rows.map(fromRow);
  }
}
