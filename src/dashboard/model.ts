/**
 * What `trowel top` knows, as plain state: the machines, the newest events,
 * the counters, a throughput history, and whether the stream is live. The
 * stream's messages and the connection's ups and downs go in; view.ts turns
 * the state into what the screen shows. No sockets, no terminal, no clock
 * of its own (times are passed in), so every transition is testable.
 */
import type { Counters, MachineStatus, StreamEvent, StreamMessage } from '../http/event-stream-messages.ts';

export type Connection =
  | { kind: 'connecting'; attempt: number; error?: string }
  | { kind: 'live'; since: number };

/** One second of throughput, bytes per second. */
export interface ThroughputSample {
  at: number;
  /** What the server sent (HTTP response bodies + TFTP data), from its counters. */
  served: number;
  /** What machines reported receiving (their progress events' rates). */
  received: number;
}

export interface DashboardState {
  server: string;
  connection: Connection;
  machines: Map<string, MachineStatus>;
  /** Oldest first, at most MAX_EVENTS. */
  events: StreamEvent[];
  counters: Counters | undefined;
  /** Oldest first, at most MAX_SAMPLES. */
  throughput: ThroughputSample[];
  /** The previous counters and when the server read them, to turn totals into rates. */
  lastCounters: { at: number; counters: Counters } | undefined;
}

export const MAX_EVENTS = 200;
export const MAX_SAMPLES = 300;
/** A machine reports progress every second; a rate older than this is from a machine that went quiet. */
export const RATE_STALE_MS = 15_000;

/** The machine's reported rate, unless it is stale at `now`. */
export function currentRate(m: MachineStatus, now: number): number | null {
  return m.rate !== null && now - Date.parse(m.updatedAt) <= RATE_STALE_MS ? m.rate : null;
}

export function initialState(server: string): DashboardState {
  return { server, connection: { kind: 'connecting', attempt: 0 }, machines: new Map(), events: [], counters: undefined, throughput: [], lastCounters: undefined };
}

export function connected(state: DashboardState, now: number): DashboardState {
  return { ...state, connection: { kind: 'live', since: now } };
}

/** The stream dropped or could not be reached; what is shown stays until the next snapshot replaces it. */
export function disconnected(state: DashboardState, attempt: number, error: string | undefined): DashboardState {
  return { ...state, connection: { kind: 'connecting', attempt, ...(error ? { error } : {}) } };
}

export function applyMessage(state: DashboardState, message: StreamMessage): DashboardState {
  switch (message.type) {
    case 'snapshot':
      // A snapshot starts over (a reconnect, maybe to a restarted server): its counters restart
      // the rates, but the throughput history stays so the graph shows the gap, not a blank.
      return {
        ...state,
        machines: new Map(message.machines.map((m) => [m.mac, m])),
        events: message.events.slice(-MAX_EVENTS),
        counters: message.counters,
        lastCounters: { at: Date.parse(message.at), counters: message.counters },
      };
    case 'event':
      return { ...state, events: [...state.events, message.event].slice(-MAX_EVENTS) };
    case 'machine': {
      const machines = new Map(state.machines);
      machines.set(message.machine.mac, message.machine);
      return { ...state, machines };
    }
    case 'counters':
      return countersArrived(state, Date.parse(message.at), message.counters);
    default:
      // A newer server may send kinds this client does not know: ignore them.
      return state;
  }
}

/** @private */
function countersArrived(state: DashboardState, at: number, counters: Counters): DashboardState {
  const last = state.lastCounters;
  const next = { ...state, counters, lastCounters: { at, counters } };
  if (!last || at <= last.at) return next;
  const sent = (c: Counters) => c.http.bytes + c.tftp.bytes;
  const delta = sent(counters) - sent(last.counters);
  // Totals only go down when the server restarted between two reads: no rate from that pair.
  if (delta < 0) return next;
  let received = 0;
  for (const m of state.machines.values()) received += currentRate(m, at) ?? 0;
  const sample = { at, served: (delta * 1000) / (at - last.at), received };
  return { ...next, throughput: [...state.throughput, sample].slice(-MAX_SAMPLES) };
}
