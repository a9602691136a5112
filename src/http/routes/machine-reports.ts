/**
 * What the server and a provisioning machine tell each other
 * (docs/provisioning.md): the plan (set by the admin, read by the machine),
 * step events and log lines (posted by the machine with its own token, read
 * by anyone on the boot network). Events drive the machine's state; the
 * final `complete/done` marks it deployed and flips its action to `local`,
 * so its next PXE boot goes to its own disk.
 */
import { TrowelError } from '../../errors.ts';
import { EventKind, parsePlan, type EventStore, type Machine } from '../../store/index.ts';
import { bearerToken, requireAdmin, requireMachine, tokensEqual } from '../auth.ts';
import type { Handler } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { machineView } from '../machine-view.ts';
import { readBody, readJson } from '../read-json.ts';
import { json } from '../respond.ts';
import type { RouteDeps } from './deps.ts';
import { macParam, unknownMachine } from './machines.ts';
import { STEPS } from '../../provision/server-client.ts';

/** The client's steps, in order: one list for both ends. */
export const PROVISION_STEPS = STEPS;
export const STEP_STATES = ['started', 'progress', 'done', 'failed'] as const;
const MAX_TEXT = 4000;
const MAX_LOG_BYTES = 64 * 1024;

function events(deps: RouteDeps): EventStore {
  if (!deps.events) throw new HttpError(503, 'no_event_store', 'Cannot record machine events: this server runs without an event store');
  return deps.events;
}

/** The machine's own token, or the admin token (operators may read any plan). */
function requireMachineOrAdmin(request: Request, deps: RouteDeps, mac: string): void {
  const token = bearerToken(request);
  if (token !== undefined && tokensEqual(token, deps.adminToken)) return;
  requireMachine(request, deps.machines, mac);
}

export function getPlanRoute(deps: RouteDeps): Handler {
  return ({ request, params }) => {
    const mac = macParam(params['mac']);
    requireMachineOrAdmin(request, deps, mac);
    const machine = deps.machines.get(mac);
    if (!machine) throw unknownMachine(mac);
    return json({ plan: machine.plan });
  };
}

/**
 * PUT a plan (admin): stores it and sets the action to `provision`. A MAC
 * never seen is registered here, so machines can be planned before they
 * first power on (racking a batch, then booting them all).
 */
export function putPlanRoute(deps: RouteDeps): Handler {
  return async ({ request, params, peer, log }) => {
    requireAdmin(request, deps.adminToken);
    const mac = macParam(params['mac']);
    const body = await readJson(request, 'set the plan', '{"template": "org.example.Desktop", ...} (see docs/provisioning.md)');
    let plan;
    try {
      plan = parsePlan(body);
    } catch (e) {
      throw new HttpError(400, 'invalid_plan', (e as TrowelError).message);
    }
    deps.machines.recordContact({ mac });
    deps.machines.setPlan(mac, plan);
    deps.machines.setAction(mac, 'provision');
    deps.machines.setState(mac, 'planned');
    log.info('machine_plan_set', { peer, mac, template: plan.template, version: plan.version ?? 'latest' });
    return json({ machine: machineView(deps.machines.get(mac)!), plan });
  };
}

export function postEventRoute(deps: RouteDeps): Handler {
  return async ({ request, params, peer, log }) => {
    const mac = macParam(params['mac']);
    const machine = requireMachine(request, deps.machines, mac);
    const event = parseStepEvent(await readJson(request, 'record the event', '{"step": "receive", "state": "progress", ...}'));
    const stored = events(deps).append(mac, EventKind.step, { ...event });
    const state = nextState(machine, event);
    deps.machines.setState(mac, state);
    if (event.step === 'complete' && event.state === 'done') deps.machines.setAction(mac, 'local');
    if (event.state !== 'progress') log.info('machine_step', { peer, mac, ...event, machineState: state });
    return json({ id: stored.id, state }, 201);
  };
}

export function postLogRoute(deps: RouteDeps): Handler {
  return async ({ request, params, log }) => {
    const mac = macParam(params['mac']);
    requireMachine(request, deps.machines, mac);
    const text = (await readBody(request, MAX_LOG_BYTES)).toString('utf8');
    const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
    for (const line of lines) {
      events(deps).append(mac, EventKind.log, { line: line.slice(0, MAX_TEXT) });
      log.debug('machine_log', { mac, line: line.slice(0, MAX_TEXT) });
    }
    return json({ lines: lines.length }, 201);
  };
}

export function listEventsRoute(deps: RouteDeps): Handler {
  return ({ params, url }) => {
    const mac = macParam(params['mac']);
    if (!deps.machines.get(mac)) throw unknownMachine(mac);
    const after = Number(url.searchParams.get('after') ?? 0);
    const list = events(deps).list(mac, { afterId: Number.isInteger(after) && after > 0 ? after : 0, limit: 1000 });
    return json({ events: list.map((e) => ({ id: e.id, at: new Date(e.at).toISOString(), kind: e.kind, ...e.data })) });
  };
}

export interface StepEvent {
  step: (typeof PROVISION_STEPS)[number];
  state: (typeof STEP_STATES)[number];
  bytes?: number;
  totalBytes?: number;
  rate?: number;
  message?: string;
  error?: string;
}

/** Validates a posted step event (untrusted input) into a StepEvent. */
export function parseStepEvent(body: unknown): StepEvent {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const fail = (problem: string) => new HttpError(400, 'invalid_event', `Cannot record the event: ${problem}`);
  if (!(PROVISION_STEPS as readonly unknown[]).includes(b.step)) throw fail(`"step" must be one of ${PROVISION_STEPS.join(', ')}`);
  if (!(STEP_STATES as readonly unknown[]).includes(b.state)) throw fail(`"state" must be one of ${STEP_STATES.join(', ')}`);
  const event: StepEvent = { step: b.step as StepEvent['step'], state: b.state as StepEvent['state'] };
  for (const key of ['bytes', 'totalBytes', 'rate'] as const) {
    const v = b[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw fail(`"${key}" must be a non-negative number`);
    event[key] = v;
  }
  for (const key of ['message', 'error'] as const) {
    const v = b[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw fail(`"${key}" must be a string`);
    event[key] = v.slice(0, MAX_TEXT);
  }
  return event;
}

/** The machine's state after an event (pure). */
export function nextState(machine: Pick<Machine, 'state'>, event: StepEvent): string {
  if (event.state === 'failed') return `failed:${event.step}`;
  // The reboot that follows completion is not a new provisioning step.
  if (event.step === 'reboot' && machine.state === 'deployed') return 'deployed';
  if (event.step === 'complete' && event.state === 'done') return 'deployed';
  return `provisioning:${event.step}`;
}
