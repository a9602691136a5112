/**
 * A machine's hardware inventory (src/inventory): the machine sends it from
 * the console with its own token, as it may report only about itself;
 * anyone on the boot network may read it, like the rest of the registry.
 */
import { TrowelError } from '../../errors.ts';
import { parseInventory } from '../../inventory/parse.ts';
import { requireMachine } from '../auth.ts';
import type { Handler } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { readJson } from '../read-json.ts';
import { json } from '../respond.ts';
import type { RouteDeps } from './deps.ts';
import { macParam, unknownMachine } from './machines.ts';

/** A machine with many disks and NICs still fits well within this. */
const MAX_INVENTORY_BYTES = 256 * 1024;

/** PUT /api/v1/machines/<mac>/inventory (that machine's token). */
export function putInventoryRoute(deps: RouteDeps): Handler {
  return async ({ request, params, peer, log }) => {
    const mac = macParam(params['mac']);
    requireMachine(request, deps.machines, mac);
    const body = await readJson(request, 'store the inventory', 'the inventory as `trowel tui` collects it', MAX_INVENTORY_BYTES);
    let inventory;
    try {
      inventory = parseInventory(body);
    } catch (e) {
      throw new HttpError(400, 'invalid_inventory', (e as TrowelError).message);
    }
    deps.machines.setInventory(mac, JSON.stringify(inventory));
    log.info('machine_inventory', { peer, mac, nics: inventory.nics.length, disks: inventory.disks.length });
    return json({ inventory, receivedAt: new Date(deps.machines.getInventory(mac)!.receivedAt).toISOString() });
  };
}

/** GET /api/v1/machines/<mac>/inventory: `{ inventory: null }` when the machine sent none. */
export function getInventoryRoute(deps: RouteDeps): Handler {
  return ({ params }) => {
    const mac = macParam(params['mac']);
    if (!deps.machines.get(mac)) throw unknownMachine(mac);
    const stored = deps.machines.getInventory(mac);
    if (!stored) return json({ inventory: null, receivedAt: null });
    return json({ inventory: JSON.parse(stored.inventory) as unknown, receivedAt: new Date(stored.receivedAt).toISOString() });
  };
}
