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
import { json } from '../respond.ts';
import type { RouteDeps } from './deps.ts';

/** Request bodies are tiny JSON documents; anything larger is refused before parsing. */
const MAX_BODY_BYTES = 16 * 1024;

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
    const body = await readJson(request);
    const action = (body as { action?: unknown } | null)?.action;
    if (typeof action !== 'string' || !(BOOT_ACTIONS as readonly string[]).includes(action)) {
      throw new HttpError(400, 'invalid_action', `Cannot set the action: "action" must be one of ${BOOT_ACTIONS.join(', ')}`);
    }
    if (!deps.machines.setAction(mac, action as BootAction)) throw unknownMachine(mac);
    log.info('machine_action_set', { peer, mac, action });
    return json({ machine: machineView(deps.machines.get(mac)!) });
  };
}

/** @private */
function macParam(raw: string | undefined): string {
  const mac = raw === undefined ? undefined : normalizeMac(raw);
  if (mac === undefined) throw new HttpError(400, 'invalid_mac', `Cannot find the machine: "${raw ?? ''}" is not a MAC address`);
  return mac;
}

/** @private */
function unknownMachine(mac: string): HttpError {
  return new HttpError(404, 'machine_not_found', `Cannot find the machine: ${mac} has never booted from this server`);
}

/** @private Reads at most MAX_BODY_BYTES and parses them as JSON. */
async function readJson(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body) {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', `Cannot set the action: the body is not JSON; send {"action": "${BOOT_ACTIONS.join('|')}"}`);
  }
}

/** @private */
function tooLarge(): HttpError {
  return new HttpError(413, 'payload_too_large', `Cannot read the request: bodies are limited to ${MAX_BODY_BYTES} bytes`);
}
