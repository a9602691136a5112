/**
 * The provisioning client's side of the machine API (docs/provisioning.md,
 * "Server side"): read this machine's plan, post step events and log lines,
 * all with the machine's own token. Failures are TrowelErrors in one line,
 * like the template API client's.
 */
import { request, type Dispatcher } from 'undici';
import { TrowelError } from '../errors.ts';
import type { ServerPlan } from './plan.ts';

export const STEPS = ['discover', 'plan', 'partition', 'mkfs', 'receive', 'bench', 'deploy', 'bootloader', 'complete', 'reboot'] as const;
export type Step = (typeof STEPS)[number];
export type StepState = 'started' | 'progress' | 'done' | 'failed';

export interface ProvisionEvent {
  step: Step;
  state: StepState;
  bytes?: number;
  totalBytes?: number;
  /** Bytes per second. */
  rate?: number;
  message?: string;
  error?: string;
}

export interface ServerClientOptions {
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

export class ProvisionServer {
  readonly server: string;
  readonly mac: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher | undefined;

  constructor(server: string, mac: string, token: string, options: ServerClientOptions = {}) {
    this.server = server.replace(/\/+$/, '');
    this.mac = mac;
    this.#token = token;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#dispatcher = options.dispatcher;
  }

  /** The plan the server holds for this machine, or null when it has none. */
  async getPlan(): Promise<ServerPlan | null> {
    const body = await this.#call('fetch the plan', 'GET', 'plan');
    const plan = (body as { plan?: unknown }).plan;
    if (plan === null || plan === undefined) return null;
    if (typeof plan !== 'object' || Array.isArray(plan)) throw new TrowelError('ESERVER', `Cannot fetch the plan: ${this.server} sent a plan that is not an object`);
    return plan as ServerPlan;
  }

  async postEvent(event: ProvisionEvent): Promise<void> {
    await this.#call(`report ${event.step} ${event.state}`, 'POST', 'events', JSON.stringify(event), 'application/json');
  }

  /** The machine's hardware (src/inventory), as the console collects it. */
  async putInventory(inventory: object): Promise<void> {
    await this.#call('send the inventory', 'PUT', 'inventory', JSON.stringify(inventory), 'application/json');
  }

  /** Log lines, newline-separated. */
  async postLog(lines: string): Promise<void> {
    await this.#call('send the log', 'POST', 'log', lines, 'text/plain; charset=utf-8');
  }

  /** @private */
  async #call(what: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: string, type?: string): Promise<unknown> {
    const url = `${this.server}/api/v1/machines/${encodeURIComponent(this.mac)}/${path}`;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method,
        headers: { accept: 'application/json', authorization: `Bearer ${this.#token}`, ...(type ? { 'content-type': type } : {}) },
        body,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        dispatcher: this.#dispatcher,
      });
    } catch (e) {
      const err = e as { code?: string; message?: string };
      throw new TrowelError('EUNREACHABLE', `Cannot reach server ${this.server}: ${err.code ?? err.message ?? String(e)}`, { cause: e });
    }
    const raw = await response.body.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    if (response.statusCode < 200 || response.statusCode > 299) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const detail = typeof error?.message === 'string' ? error.message.replace(/^Cannot [^:]+: /, '') : 'no reason given';
      const code = typeof error?.code === 'string' ? ` (${error.code})` : '';
      throw new TrowelError(response.statusCode === 401 || response.statusCode === 403 ? 'EFORBIDDEN' : 'ESERVER', `Cannot ${what}: server says ${response.statusCode}${code}: ${detail}`);
    }
    if (parsed === undefined) throw new TrowelError('ESERVER', `Cannot ${what}: ${this.server} answered without JSON (is it a trowel server?)`);
    return parsed;
  }
}
