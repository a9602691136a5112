/**
 * Numbered schema migrations; never edit a released one, append a new one.
 * Times are milliseconds since the epoch (UTC). MACs are lowercase colon form.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE machines (
    mac         TEXT PRIMARY KEY,
    arch        INTEGER,           -- DHCP option 93 client architecture, if sent
    uuid        TEXT,              -- DHCP option 97 machine UUID, if sent
    hostname    TEXT,
    ip          TEXT,
    action      TEXT NOT NULL DEFAULT 'discover' CHECK (action IN ('discover', 'provision', 'local')),
    state       TEXT NOT NULL DEFAULT 'new',
    token       TEXT NOT NULL,     -- per-machine API token, handed out in its boot script
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
  );
  CREATE TABLE leases (
    ip          TEXT PRIMARY KEY,
    mac         TEXT,              -- NULL for an address a client DECLINEd (in use by someone else)
    client_id   TEXT,              -- option 61 as hex, when the client sent one
    hostname    TEXT,
    state       TEXT NOT NULL CHECK (state IN ('offered', 'bound', 'declined')),
    expires_at  INTEGER NOT NULL
  );
  CREATE INDEX leases_by_mac ON leases (mac);
  CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    mac         TEXT,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX events_by_mac ON events (mac, id);
  `,
  `
  -- The provisioning plan the server holds for a machine (JSON, see docs/provisioning.md).
  ALTER TABLE machines ADD COLUMN plan TEXT;
  `,
  `
  -- The hardware the machine last reported (JSON, src/inventory/types.ts) and when the server got it.
  ALTER TABLE machines ADD COLUMN inventory TEXT;
  ALTER TABLE machines ADD COLUMN inventory_at INTEGER;
  `,
];
