/**
 * Prepared statements, prepared once per SQL text: the DHCP path runs the
 * same few queries for every packet, and preparing is most of their cost.
 */
import type { StatementSync } from 'node:sqlite';
import type { Database } from './database.ts';

export class StatementCache {
  private readonly db: Database;
  private readonly statements = new Map<string, StatementSync>();

  constructor(db: Database) {
    this.db = db;
  }

  get(text: string): StatementSync {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }
}
