/**
 * A client for trowel's HTTP API, used by `trowel machines` (and later by
 * the TUI). Every failure becomes a TrowelError with one sentence:
 * "Cannot reach server <url>: ECONNREFUSED" when there is no answer,
 * "Cannot <action>: server says <status> <message>" when the server refuses.
 */
import type { MachinePlan } from '../store/plan.ts';
import { TrowelError } from '../errors.ts';
import type { Inventory } from '../inventory/types.ts';
import type { BootAction } from '../store/machines.ts';
import type { MachineView } from './machine-view.ts';

export interface ApiClientOptions {
  /** Base URL, e.g. http://10.0.0.1:8080 (a trailing slash is ignored). */
  server: string;
  /** Bearer token for calls that need one. */
  token?: string;
  timeoutMs?: number;
}

/** An event as GET /api/v1/machines/<mac>/events shows it. */
export interface MachineEvent {
  id: number;
  at: string;
  kind: 'step' | 'log';
  step?: string;
  state?: string;
  bytes?: number;
  rate?: number;
  message?: string;
  error?: string;
  line?: string;
}

export class ApiClient {
  readonly server: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async listMachines(): Promise<MachineView[]> {
    const body = await this.call('list machines', 'GET', '/api/v1/machines');
    return (body as { machines: MachineView[] }).machines;
  }

  async getMachine(mac: string): Promise<MachineView> {
    const body = await this.call(`show machine ${mac}`, 'GET', `/api/v1/machines/${encodeURIComponent(mac)}`);
    return (body as { machine: MachineView }).machine;
  }

  async setAction(mac: string, action: BootAction): Promise<MachineView> {
    const body = await this.call('set action', 'PUT', `/api/v1/machines/${encodeURIComponent(mac)}/action`, { action });
    return (body as { machine: MachineView }).machine;
  }

  async setPlan(mac: string, plan: MachinePlan): Promise<MachineView> {
    const body = await this.call('set plan', 'PUT', `/api/v1/machines/${encodeURIComponent(mac)}/plan`, plan);
    return (body as { machine: MachineView }).machine;
  }

  /** The hardware the machine last reported from its console, or null. */
  async getInventory(mac: string): Promise<{ inventory: Inventory | null; receivedAt: string | null }> {
    return (await this.call(`show the inventory of ${mac}`, 'GET', `/api/v1/machines/${encodeURIComponent(mac)}/inventory`)) as { inventory: Inventory | null; receivedAt: string | null };
  }

  async listEvents(mac: string): Promise<MachineEvent[]> {
    const body = await this.call(`list events of ${mac}`, 'GET', `/api/v1/machines/${encodeURIComponent(mac)}/events`);
    return (body as { events: MachineEvent[] }).events;
  }

  /** @private */
  private async call(what: string, method: string, path: string, payload?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(this.server + path, {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new TrowelError('EUNREACHABLE', `Cannot reach server ${this.server}: ${networkReason(e, this.timeoutMs)}`, { cause: e });
    }
    const raw = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      // The server's own "Cannot <action>: " prefix would repeat ours; keep only its reason.
      const detail = typeof error?.message === 'string' ? error.message.replace(/^Cannot [^:]+: /, '') : response.statusText;
      const code = typeof error?.code === 'string' ? ` (${error.code})` : '';
      throw new TrowelError('ESERVER', `Cannot ${what}: server says ${response.status}${code}: ${detail}`);
    }
    if (body === undefined) {
      throw new TrowelError('ESERVER', `Cannot ${what}: ${this.server} answered ${response.status} without JSON (is it a trowel server?)`);
    }
    return body;
  }
}

/** @private The errno-style reason buried in fetch's "fetch failed" TypeError. */
function networkReason(e: unknown, timeoutMs: number): string {
  if (e instanceof DOMException && e.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000}s`;
  const cause = (e as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
  return cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (e as Error).message ?? String(e);
}
