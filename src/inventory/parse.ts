/**
 * Checks an inventory a machine sent (untrusted input) and returns a copy
 * holding only the known fields, so the store never keeps more than the
 * shape promises (pure).
 */
import { TrowelError } from '../errors.ts';
import type { Inventory, InventoryDisk, InventoryNic } from './types.ts';

const MAX_ITEMS = 256;
const MAX_TEXT = 256;

export function parseInventory(body: unknown): Inventory {
  const o = object(body, 'the inventory');
  const system = object(o.system, 'system');
  const cpu = object(o.cpu, 'cpu');
  return {
    collectedAt: date(o.collectedAt),
    system: { vendor: optText(system.vendor, 'system.vendor'), product: optText(system.product, 'system.product'), serial: optText(system.serial, 'system.serial') },
    cpu: { model: optText(cpu.model, 'cpu.model'), threads: count(cpu.threads, 'cpu.threads'), cores: optCount(cpu.cores, 'cpu.cores'), sockets: optCount(cpu.sockets, 'cpu.sockets') },
    memoryBytes: count(o.memoryBytes, 'memoryBytes'),
    nics: list(o.nics, 'nics').map((n, i): InventoryNic => {
      const x = object(n, `nics[${i}]`);
      return {
        name: text(x.name, `nics[${i}].name`), mac: text(x.mac, `nics[${i}].mac`), state: text(x.state, `nics[${i}].state`),
        carrier: x.carrier === true, speedMbps: optCount(x.speedMbps, `nics[${i}].speedMbps`), driver: optText(x.driver, `nics[${i}].driver`),
      };
    }),
    disks: list(o.disks, 'disks').map((d, i): InventoryDisk => {
      const x = object(d, `disks[${i}]`);
      return {
        name: text(x.name, `disks[${i}].name`), model: optText(x.model, `disks[${i}].model`), serial: optText(x.serial, `disks[${i}].serial`),
        sizeBytes: count(x.sizeBytes, `disks[${i}].sizeBytes`), transport: text(x.transport, `disks[${i}].transport`), rotational: x.rotational === true,
      };
    }),
  };
}

/** @private */
function bad(field: string, why: string): TrowelError {
  return new TrowelError('EINVENTORY', `Cannot accept the inventory: ${field} ${why}`);
}

/** @private */
function object(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(field, 'must be an object');
  return v as Record<string, unknown>;
}

/** @private */
function list(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw bad(field, 'must be a list');
  if (v.length > MAX_ITEMS) throw bad(field, `must have at most ${MAX_ITEMS} entries`);
  return v;
}

/** @private */
function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '' || v.length > MAX_TEXT) throw bad(field, `must be a string of 1 to ${MAX_TEXT} characters`);
  return v;
}

/** @private */
function optText(v: unknown, field: string): string | undefined {
  return v === undefined || v === null ? undefined : text(v, field);
}

/** @private */
function count(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(field, 'must be a whole number of at least 0');
  return v;
}

/** @private */
function optCount(v: unknown, field: string): number | undefined {
  return v === undefined || v === null ? undefined : count(v, field);
}

/** @private */
function date(v: unknown): string {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw bad('collectedAt', 'must be an ISO 8601 time');
  return new Date(v).toISOString();
}
