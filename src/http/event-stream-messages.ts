/**
 * What `GET /api/v1/events` (a WebSocket) sends, one JSON text frame per
 * message, and the pure functions that build it from the stores and the
 * metrics registry. The stream is open to the boot network like the other
 * listings, so a machine appears as the same token-free fields as in
 * MachineView plus what its newest step event says.
 *
 *   snapshot  on connect: every machine, the newest events, the counters
 *   event     each step event or log line as it is stored
 *   machine   a machine whose state, action, address or step changed
 *   counters  DHCP/TFTP/HTTP totals since the server started, every second
 */
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { Machine, StoredEvent } from '../store/index.ts';

export const EVENT_STREAM_PATH = '/api/v1/events';

export interface MachineStatus {
  mac: string;
  hostname: string | null;
  ip: string | null;
  action: string;
  /** `new`, `planned`, `provisioning:<step>`, `deployed`, `failed:<step>`. */
  state: string;
  lastSeen: string;
  /** The newest step event: which step, and started|progress|done|failed. */
  step: string | null;
  stepState: string | null;
  bytes: number | null;
  totalBytes: number | null;
  /** 0..1 within the step: bytes of totalBytes while it runs, 1 once done; null when unknown. */
  progress: number | null;
  /** Bytes per second the machine reported, while its step is in progress. */
  rate: number | null;
  /** When the newest step event was stored (lastSeen before any). */
  updatedAt: string;
}

/** An event as the stream shows it: the machine, then the fields it posted. */
export interface StreamEvent {
  id: number;
  mac: string;
  at: string;
  kind: 'step' | 'log';
  step?: string;
  state?: string;
  bytes?: number;
  totalBytes?: number;
  rate?: number;
  message?: string;
  error?: string;
  line?: string;
}

/** Totals since the server started; a client turns two of them into rates. */
export interface Counters {
  dhcp: { received: number; sent: number; dropped: number };
  tftp: { transfers: number; failed: number; active: number; bytes: number };
  http: { requests: number; bytes: number };
}

export type StreamMessage =
  | { type: 'snapshot'; at: string; machines: MachineStatus[]; events: StreamEvent[]; counters: Counters }
  | { type: 'event'; event: StreamEvent }
  | { type: 'machine'; machine: MachineStatus }
  | { type: 'counters'; at: string; counters: Counters };

export function streamEvent(e: StoredEvent): StreamEvent {
  return { ...e.data, id: e.id, mac: e.mac, at: new Date(e.at).toISOString(), kind: e.kind };
}

/** A machine and its newest step event (if any) as one row of the dashboard. */
export function machineStatus(m: Machine, latestStep: StoredEvent | undefined): MachineStatus {
  const d = latestStep?.data ?? {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const stepState = str(d['state']);
  const bytes = num(d['bytes']);
  const totalBytes = num(d['totalBytes']);
  let progress: number | null = null;
  if (stepState === 'done') progress = 1;
  else if (bytes !== null && totalBytes) progress = Math.min(1, bytes / totalBytes);
  return {
    mac: m.mac,
    hostname: m.hostname,
    ip: m.ip,
    action: m.action,
    state: m.state,
    lastSeen: new Date(m.lastSeen).toISOString(),
    step: str(d['step']),
    stepState,
    bytes,
    totalBytes,
    progress,
    // A rate is only news while bytes flow; a finished step's last rate would read as current.
    rate: stepState === 'progress' ? num(d['rate']) : null,
    updatedAt: new Date(latestStep?.at ?? m.lastSeen).toISOString(),
  };
}

/** The counters from the metrics names the DHCP, TFTP and HTTP servers register. */
export function readCounters(metrics: MetricsRegistry): Counters {
  const transfers = metrics.total('trowel_tftp_transfers_total');
  return {
    dhcp: {
      received: metrics.total('trowel_dhcp_packets_total', { direction: 'in' }),
      sent: metrics.total('trowel_dhcp_packets_total', { direction: 'out' }),
      dropped: metrics.total('trowel_dhcp_dropped_total'),
    },
    tftp: {
      transfers,
      failed: transfers - metrics.total('trowel_tftp_transfers_total', { result: 'ok' }),
      active: metrics.total('trowel_tftp_active_transfers'),
      bytes: metrics.total('trowel_tftp_bytes_total'),
    },
    http: {
      requests: metrics.total('trowel_http_requests_total'),
      bytes: metrics.total('trowel_http_response_bytes_total'),
    },
  };
}
