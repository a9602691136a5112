/**
 * The machine registry over HTTP. Reading is open to the boot network (no
 * secrets in a MachineView); changing a boot action needs the admin token.
 */
import { BOOT_ACTIONS, type BootAction } from '../../store/machines.ts';
import { normalizeMac } from '../../wire/mac.ts';
import { requireAdmin } from '../auth.ts';
import type { Handler } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { machineView } from '../machine-view.ts';
import { readJson } from '../read-json.ts';
import { json } from '../respond.ts';
import type { RouteDeps } from './deps.ts';

export function listMachinesRoute(deps: RouteDeps): Handler {
  return () => json({ machines: deps.machines.list().map(machineView) });
}

export function showMachineRoute(deps: RouteDeps): Handler {
  return ({ params }) => {
    const mac = macParam(params['mac']);
    const machine = deps.machines.get(mac);
    if (!machine) throw unknownMachine(mac);
    return json({ machine: machineView(machine) });
  };
}

/** PUT /api/v1/machines/<mac>/action with `{ "action": "discover|provision|local" }`. */
export function setActionRoute(deps: RouteDeps): Handler {
  return async ({ request, params, peer, log }) => {
    requireAdmin(request, deps.adminToken);
    const mac = macParam(params['mac']);
    const body = await readJson(request, 'set the action', `{"action": "${BOOT_ACTIONS.join('|')}"}`);
    const action = (body as { action?: unknown } | null)?.action;
    if (typeof action !== 'string' || !(BOOT_ACTIONS as readonly string[]).includes(action)) {
      throw new HttpError(400, 'invalid_action', `Cannot set the action: "action" must be one of ${BOOT_ACTIONS.join(', ')}`);
    }
    if (!deps.machines.setAction(mac, action as BootAction)) throw unknownMachine(mac);
    log.info('machine_action_set', { peer, mac, action });
    return json({ machine: machineView(deps.machines.get(mac)!) });
  };
}

/** Parses the :mac parameter or answers 400. */
export function macParam(raw: string | undefined): string {
  const mac = raw === undefined ? undefined : normalizeMac(raw);
  if (mac === undefined) throw new HttpError(400, 'invalid_mac', `Cannot find the machine: "${raw ?? ''}" is not a MAC address`);
  return mac;
}

export function unknownMachine(mac: string): HttpError {
  return new HttpError(404, 'machine_not_found', `Cannot find the machine: ${mac} has never booted from this server`);
}
