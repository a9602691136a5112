/**
 * The arithmetic and tables of the multicast benchmark (issue 6): goodput
 * per point, trowel's goodput over each peer's, flatness time(most
 * receivers)/time(1), and CPU seconds per GiB for the sender and per
 * receiver. Pure functions of the raw runs, so a report can be rebuilt from
 * its JSON and the unit test can pin every number.
 */
import { formatRatio, median, speedRatioFromSeconds } from './stats.ts';
import { renderTable, type Column } from './table.ts';

/** One setting: MTU, receiver count, loss on one receiver. */
export interface McastPoint {
  id: string;
  mtu: number;
  receivers: number;
  /** Random loss (%) on the first receiver only; 0 for none. */
  lossPercent: number;
}

export interface McastRun {
  rep: number;
  /** Sender start to the first of: the last receiver's own "done" (summary line, status line or exit), the sender's exit. */
  seconds?: number;
  error?: string;
  senderCpuSeconds?: number;
  /** Each receiver's CPU seconds from ready (port bound) to finished. */
  receiverCpuSeconds?: number[];
  /** The sender's exit minus the last receiver's "done": how long the sender went on (end-of-session handshake). */
  senderAfterSeconds?: number;
  /** Packets that reached the lossy receiver and how many of them the drop rule took. */
  lossyArrived?: number;
  lossyDropped?: number;
  /** The tool's own account of the run (repairs, passes, block size…). */
  notes?: string;
}

export interface McastResults {
  /** Size of the file every receiver gets. */
  bytes: number;
  /** The tool whose ratios are reported (trowel), then its peers. */
  subject: string;
  peers: string[];
  points: McastPoint[];
  runs: Record<string, Record<string, McastRun[]>>;
}

export const GiB = 2 ** 30;
/** Goal of issue 6: trowel's goodput at least this many times udpcast's at every point. */
export const GOODPUT_GOAL = 1.2;

export function pointId(p: Omit<McastPoint, 'id'>): string {
  return `m${p.mtu}-r${p.receivers}-l${p.lossPercent}`;
}

function okRuns(results: McastResults, point: McastPoint, tool: string): McastRun[] {
  return (results.runs[point.id]?.[tool] ?? []).filter((r) => r.error === undefined && r.seconds !== undefined);
}

export function medianSeconds(results: McastResults, point: McastPoint, tool: string): number | undefined {
  const runs = okRuns(results, point, tool);
  return runs.length ? median(runs.map((r) => r.seconds!)) : undefined;
}

/** Goodput in MB/s (10^6 bytes per second, as issue 6 quotes udpcast) from the median time. */
export function goodputMBps(results: McastResults, point: McastPoint, tool: string): number | undefined {
  const s = medianSeconds(results, point, tool);
  return s === undefined ? undefined : results.bytes / s / 1e6;
}

/** trowel's goodput over the peer's at one point (> 1: trowel is faster). */
export function goodputRatio(results: McastResults, point: McastPoint, peer: string): number | undefined {
  const mine = medianSeconds(results, point, results.subject);
  const theirs = medianSeconds(results, point, peer);
  return mine === undefined || theirs === undefined ? undefined : speedRatioFromSeconds(mine, theirs);
}

/** The receiver counts measured at an MTU and loss, ascending. */
function receiverCounts(results: McastResults, mtu: number, lossPercent: number): McastPoint[] {
  return results.points.filter((p) => p.mtu === mtu && p.lossPercent === lossPercent).sort((a, b) => a.receivers - b.receivers);
}

/** time(most receivers) / time(1 receiver) for a tool: 1.00 is perfectly flat, higher is worse. */
export function flatness(results: McastResults, tool: string, mtu: number, lossPercent: number): number | undefined {
  const counts = receiverCounts(results, mtu, lossPercent);
  if (counts.length < 2) return undefined;
  const first = medianSeconds(results, counts[0]!, tool);
  const last = medianSeconds(results, counts[counts.length - 1]!, tool);
  return first === undefined || last === undefined ? undefined : last / first;
}

/** Median over runs of the receivers' CPU seconds, per receiver, per GiB delivered to it. */
export function receiverCpuPerGiB(results: McastResults, point: McastPoint, tool: string): number | undefined {
  const values = okRuns(results, point, tool)
    .filter((r) => r.receiverCpuSeconds?.length)
    .map((r) => r.receiverCpuSeconds!.reduce((a, b) => a + b, 0) / r.receiverCpuSeconds!.length / (results.bytes / GiB));
  return values.length ? median(values) : undefined;
}

/** Median over runs of the sender's CPU seconds per GiB of the file. */
export function senderCpuPerGiB(results: McastResults, point: McastPoint, tool: string): number | undefined {
  const values = okRuns(results, point, tool)
    .filter((r) => r.senderCpuSeconds !== undefined)
    .map((r) => r.senderCpuSeconds! / (results.bytes / GiB));
  return values.length ? median(values) : undefined;
}

function tools(results: McastResults): string[] {
  return [results.subject, ...results.peers];
}

function fixed(n: number | undefined, digits: number): string {
  return n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits);
}

function failures(results: McastResults, point: McastPoint, tool: string): number {
  return (results.runs[point.id]?.[tool] ?? []).filter((r) => r.error !== undefined).length;
}

function mtuPoints(results: McastResults, mtu: number): McastPoint[] {
  return results.points.filter((p) => p.mtu === mtu);
}

/** One row per point: each tool's median seconds and MB/s, trowel's ratio to each peer, drops on the lossy receiver. */
export function renderGoodputTable(results: McastResults, mtu: number): string {
  const all = tools(results);
  const columns: Column[] = [
    { header: 'receivers', align: 'right' },
    { header: 'loss on one', align: 'right' },
    ...all.map((t) => ({ header: `${t} s`, align: 'right' as const })),
    ...all.map((t) => ({ header: `${t} MB/s`, align: 'right' as const })),
    ...results.peers.map((p) => ({ header: `${results.subject}/${p}`, align: 'right' as const })),
    { header: 'drops on the lossy receiver (median per tool)', align: 'left' },
    { header: 'failed runs', align: 'left' },
  ];
  const rows = mtuPoints(results, mtu).map((p) => [
    String(p.receivers),
    `${p.lossPercent}%`,
    ...all.map((t) => fixed(medianSeconds(results, p, t), 2)),
    ...all.map((t) => fixed(goodputMBps(results, p, t), 1)),
    ...results.peers.map((peer) => formatRatio(goodputRatio(results, p, peer))),
    p.lossPercent ? all.map((t) => `${t} ${fixed(medianOf(okRuns(results, p, t).map((r) => r.lossyDropped)), 0)}`).join(', ') : '',
    all.filter((t) => failures(results, p, t) > 0).map((t) => `${t} ${failures(results, p, t)}`).join(', '),
  ]);
  return renderTable(columns, rows);
}

/** Per tool and loss: median seconds at each receiver count and the flatness ratio. */
export function renderFlatnessTable(results: McastResults, mtu: number): string {
  const losses = [...new Set(mtuPoints(results, mtu).map((p) => p.lossPercent))].sort((a, b) => a - b);
  const counts = [...new Set(mtuPoints(results, mtu).map((p) => p.receivers))].sort((a, b) => a - b);
  const columns: Column[] = [
    { header: 'tool' },
    { header: 'loss on one', align: 'right' },
    ...counts.map((n) => ({ header: `${n} rx s`, align: 'right' as const })),
    { header: `time(${counts[counts.length - 1]})/time(${counts[0]})`, align: 'right' },
  ];
  const rows: string[][] = [];
  for (const loss of losses) {
    for (const tool of tools(results)) {
      const byCount = counts.map((n) => results.points.find((p) => p.mtu === mtu && p.lossPercent === loss && p.receivers === n));
      rows.push([
        tool,
        `${loss}%`,
        ...byCount.map((p) => fixed(p && medianSeconds(results, p, tool), 2)),
        fixed(flatness(results, tool, mtu, loss), 2),
      ]);
    }
  }
  return renderTable(columns, rows);
}

/** CPU seconds per GiB: the sender's, and the receivers' per receiver, with each peer's over trowel's. */
export function renderCpuTable(results: McastResults, mtu: number): string {
  const all = tools(results);
  const columns: Column[] = [
    { header: 'receivers', align: 'right' },
    { header: 'loss on one', align: 'right' },
    ...all.map((t) => ({ header: `${t} sender`, align: 'right' as const })),
    ...all.map((t) => ({ header: `${t} per rx`, align: 'right' as const })),
    ...results.peers.map((p) => ({ header: `per rx ${p}/${results.subject}`, align: 'right' as const })),
  ];
  const rows = mtuPoints(results, mtu).map((p) => {
    const mine = receiverCpuPerGiB(results, p, results.subject);
    return [
      String(p.receivers),
      `${p.lossPercent}%`,
      ...all.map((t) => fixed(senderCpuPerGiB(results, p, t), 2)),
      ...all.map((t) => fixed(receiverCpuPerGiB(results, p, t), 2)),
      ...results.peers.map((peer) => {
        const theirs = receiverCpuPerGiB(results, p, peer);
        return formatRatio(mine && theirs !== undefined ? theirs / mine : undefined);
      }),
    ];
  });
  return renderTable(columns, rows);
}

/** Issue 6's goals, one line each, from the medians. */
export function renderGoals(results: McastResults, mtus: readonly number[]): string[] {
  const lines: string[] = [];
  for (const mtu of mtus) {
    for (const peer of results.peers) {
      const ratios = mtuPoints(results, mtu).map((p) => ({ p, r: goodputRatio(results, p, peer) }));
      const measured = ratios.filter((x) => x.r !== undefined) as { p: McastPoint; r: number }[];
      if (!measured.length) {
        lines.push(`- MTU ${mtu}, goodput ${results.subject}/${peer}: not measured`);
        continue;
      }
      const met = measured.filter((x) => x.r >= GOODPUT_GOAL).length;
      const worst = measured.reduce((a, b) => (b.r < a.r ? b : a));
      const best = measured.reduce((a, b) => (b.r > a.r ? b : a));
      const goal = peer === 'udpcast' ? ` (goal ≥ ${GOODPUT_GOAL.toFixed(1)}× at every point: ${met === ratios.length ? 'met' : 'MISSED'})` : '';
      lines.push(
        `- MTU ${mtu}, goodput ${results.subject}/${peer}: ≥ ${GOODPUT_GOAL.toFixed(1)}× at ${met} of ${ratios.length} points${goal}; ` +
          `range ${formatRatio(worst.r)} (${label(worst.p)}) to ${formatRatio(best.r)} (${label(best.p)})`,
      );
    }
    const losses = [...new Set(mtuPoints(results, mtu).map((p) => p.lossPercent))].sort((a, b) => a - b);
    for (const loss of losses) {
      const mine = flatness(results, results.subject, mtu, loss);
      const theirs = results.peers.map((peer) => `${peer} ${fixed(flatness(results, peer, mtu, loss), 2)}`).join(', ');
      const udp = flatness(results, 'udpcast', mtu, loss);
      const verdict = mine === undefined || udp === undefined ? 'not measured' : mine <= udp ? 'no worse than udpcast: met' : 'worse than udpcast: MISSED';
      lines.push(`- MTU ${mtu}, ${loss}% loss, flatness time(max)/time(1): ${results.subject} ${fixed(mine, 2)}, ${theirs} (${verdict})`);
    }
    const cpu = mtuPoints(results, mtu).map((p) => tools(results).map((t) => receiverCpuPerGiB(results, p, t)));
    const span = (i: number) => {
      const v = cpu.map((row) => row[i]).filter((x): x is number => x !== undefined);
      return v.length ? `${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)}` : 'n/a';
    };
    lines.push(`- MTU ${mtu}, CPU s per receiver per GiB (range over points): ${tools(results).map((t, i) => `${t} ${span(i)}`).join(', ')}`);
  }
  return lines;
}

function label(p: McastPoint): string {
  return `${p.receivers} rx, ${p.lossPercent}% loss`;
}

/** Every run: seconds (or the failure), CPU, lag, the tool's own notes. */
export function renderAllRuns(results: McastResults): string {
  const columns: Column[] = [
    { header: 'MTU', align: 'right' },
    { header: 'rx', align: 'right' },
    { header: 'loss', align: 'right' },
    { header: 'tool' },
    { header: 'rep', align: 'right' },
    { header: 's', align: 'right' },
    { header: 'sender CPU s', align: 'right' },
    { header: 'receivers CPU s', align: 'left' },
    { header: 'sender exit after s', align: 'right' },
    { header: 'dropped/arrived', align: 'right' },
    { header: 'notes' },
  ];
  const rows: string[][] = [];
  for (const p of results.points) {
    for (const tool of tools(results)) {
      for (const r of results.runs[p.id]?.[tool] ?? []) {
        rows.push([
          String(p.mtu),
          String(p.receivers),
          `${p.lossPercent}%`,
          tool,
          String(r.rep),
          r.error !== undefined ? 'failed' : fixed(r.seconds, 3),
          fixed(r.senderCpuSeconds, 2),
          r.receiverCpuSeconds?.map((c) => c.toFixed(2)).join(' ') ?? '',
          fixed(r.senderAfterSeconds, 2),
          r.lossyArrived !== undefined ? `${r.lossyDropped}/${r.lossyArrived}` : '',
          (r.error ?? r.notes ?? '').replace(/\s+/g, ' ').slice(0, 160),
        ]);
      }
    }
  }
  return renderTable(columns, rows);
}

function medianOf(values: readonly (number | undefined)[]): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length ? median(present) : undefined;
}
