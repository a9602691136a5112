/**
 * What `trowel top` shows, as strings and numbers: the machine table, the
 * throughput series, the event lines, the counters, the status and help
 * lines. Pure: the state and the time in, the view out; tui/top only lays
 * it out on the terminal. Text is ASCII so a vt100 serial console shows it.
 */
import type { Counters, MachineStatus, StreamEvent } from '../http/event-stream-messages.ts';
import { formatBytes } from '../stream/progress.ts';
import { helpLine } from './keys.ts';
import { currentRate, type DashboardState } from './model.ts';

export interface TableView {
  headers: string[];
  /** Characters per column; cells are cut to fit. */
  widths: number[];
  rows: string[][];
}

export interface ThroughputView {
  /** Times (mm:ss), one per point; ' ' where the window has no sample yet. */
  x: string[];
  /** MiB/s, same length as x. */
  served: number[];
  received: number[];
  /** The newest sample, formatted ("12.3 MiB/s"). */
  servedNow: string;
  receivedNow: string;
}

export interface DashboardView {
  machineTitle: string;
  machines: TableView;
  throughput: ThroughputView;
  events: string[];
  counters: string[];
  status: string;
  help: string;
}

export const MACHINE_COLUMNS = ['MAC', 'HOST', 'STATE', 'STEP', 'PROG', 'RATE'] as const;
const MACHINE_WIDTHS = [17, 14, 12, 10, 5, 11];
/** Points in the throughput graph: one per second. */
export const THROUGHPUT_WINDOW = 60;
const MIB = 2 ** 20;

export function dashboardView(state: DashboardState, now: number): DashboardView {
  const machines = sortMachines([...state.machines.values()]);
  return {
    machineTitle: ` machines (${machines.length}) `,
    machines: { headers: [...MACHINE_COLUMNS], widths: MACHINE_WIDTHS, rows: machines.map((m) => machineRow(m, now)) },
    throughput: throughputView(state),
    events: state.events.map((e) => eventLine(e, state.machines)),
    counters: counterLines(state.counters),
    status: statusText(state),
    help: helpLine(),
  };
}

/** Provisioning first (what an operator watches), then failures, then the rest; by MAC within each. */
export function sortMachines(machines: MachineStatus[]): MachineStatus[] {
  const rank = (m: MachineStatus) => ['provisioning', 'failed', 'planned', 'new', 'deployed'].indexOf(stateWord(m.state)) >>> 0;
  return machines.sort((a, b) => rank(a) - rank(b) || a.mac.localeCompare(b.mac));
}

export function machineRow(m: MachineStatus, now: number): string[] {
  const rate = currentRate(m, now);
  return [
    m.mac,
    printable(m.hostname ?? m.ip ?? '-'),
    stateWord(m.state),
    m.step ?? '-',
    m.progress === null ? '-' : `${Math.floor(m.progress * 100)}%`,
    rate === null ? '-' : formatRate(rate),
  ];
}

/** "hh:mm:ss who what": a step with its progress, or a log line. */
export function eventLine(e: StreamEvent, machines: ReadonlyMap<string, MachineStatus>): string {
  const who = printable(machines.get(e.mac)?.hostname ?? e.mac);
  const time = clock(Date.parse(e.at));
  if (e.kind === 'log') return `${time} ${who} log ${printable(e.line ?? '')}`;
  const parts = [`${time} ${who} ${e.step ?? '?'} ${e.state ?? '?'}`];
  if (e.bytes !== undefined) {
    const pct = e.totalBytes ? ` ${Math.floor((e.bytes * 100) / e.totalBytes)}%` : '';
    parts.push(`${formatBytes(e.bytes)}${pct}`);
  }
  if (e.rate !== undefined && e.state === 'progress') parts.push(formatRate(e.rate));
  if (e.message) parts.push(printable(e.message));
  if (e.error) parts.push(`error: ${printable(e.error)}`);
  return parts.join(' ');
}

export function counterLines(c: Counters | undefined): string[] {
  if (!c) return ['waiting for the server'];
  // Short lines: the counters box is a third of an 80-column console.
  return [
    `DHCP in ${c.dhcp.received} out ${c.dhcp.sent} drop ${c.dhcp.dropped}`,
    `TFTP ${c.tftp.transfers} files ${c.tftp.failed} failed`,
    `     ${c.tftp.active} now, ${formatBytes(c.tftp.bytes)} sent`,
    `HTTP ${c.http.requests} requests`,
    `     ${formatBytes(c.http.bytes)} sent`,
  ];
}

/** The newest THROUGHPUT_WINDOW samples, padded on the left with zeros while the history is short. */
export function throughputView(state: DashboardState): ThroughputView {
  const samples = state.throughput.slice(-THROUGHPUT_WINDOW);
  const pad = THROUGHPUT_WINDOW - samples.length;
  const last = samples.at(-1);
  return {
    // blessed-contrib prints an empty label as "null": padding points get a space.
    x: [...Array<string>(pad).fill(' '), ...samples.map((s) => clock(s.at).slice(3))],
    served: [...Array<number>(pad).fill(0), ...samples.map((s) => round2(s.served / MIB))],
    received: [...Array<number>(pad).fill(0), ...samples.map((s) => round2(s.received / MIB))],
    servedNow: formatRate(last?.served ?? 0),
    receivedNow: formatRate(last?.received ?? 0),
  };
}

export function statusText(state: DashboardState): string {
  const c = state.connection;
  if (c.kind === 'live') return `live: ${state.server}`;
  if (c.attempt === 0) return `connecting to ${state.server}`;
  return `reconnecting to ${state.server} (try ${c.attempt}${c.error ? `: ${c.error}` : ''})`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/**
 * Text machines sent (log lines, hostnames, errors) with control characters
 * shown as '?': an escape sequence in a log line must not reach the
 * operator's terminal, and a newline or tab would break the layout.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** @private "provisioning:receive" -> "provisioning"; the step has a column of its own. */
function stateWord(state: string): string {
  return state.split(':')[0] ?? state;
}

/** @private Local wall-clock time, as the operator's other tools show it. */
function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** @private */
function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
