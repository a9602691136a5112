/**
 * Turns the DHCP benchmark's runs into its results table: per server the
 * median exchanges/s, every run's rate, retries, failures, latency and the
 * leases found on disk afterwards, and trowel's speed ratio against each
 * peer (> 1 means trowel completes more exchanges per second). Pure.
 */
import type { DhcpLoadResult } from './dhcp-load.ts';
import { formatRate, formatRatio, median, speedRatioFromRates, speedRatioFromSeconds } from './stats.ts';
import { renderTable } from './table.ts';

export interface DhcpRun {
  rep: number;
  result?: DhcpLoadResult;
  /** CPU seconds the server used during the timed exchanges. */
  serverCpuSeconds?: number;
  /** Leases the server had persisted after it stopped (warm-up included). */
  persisted?: number;
  error?: string;
}

export interface DhcpResults {
  subject: string;
  peers: string[];
  runs: Record<string, DhcpRun[]>;
}

export function medianRate(runs: readonly DhcpRun[]): number | undefined {
  const rates = runs.filter((r) => r.result && r.result.completed > 0).map((r) => r.result!.exchangesPerSecond);
  return rates.length > 0 ? median(rates) : undefined;
}

export function dhcpRatio(results: DhcpResults, peer: string): number | undefined {
  const mine = medianRate(results.runs[results.subject] ?? []);
  const theirs = medianRate(results.runs[peer] ?? []);
  return mine !== undefined && theirs !== undefined ? speedRatioFromRates(mine, theirs) : undefined;
}

/** Median server CPU µs per completed exchange. */
export function cpuPerExchange(runs: readonly DhcpRun[]): number | undefined {
  const values = runs.filter((r) => r.result && r.serverCpuSeconds !== undefined && r.result.completed > 0)
    .map((r) => (r.serverCpuSeconds! * 1e6) / r.result!.completed);
  return values.length ? median(values) : undefined;
}

/** The peer's CPU per exchange over trowel's: above 1 trowel spends less CPU on each exchange. */
export function dhcpCpuRatio(results: DhcpResults, peer: string): number | undefined {
  const mine = cpuPerExchange(results.runs[results.subject] ?? []);
  const theirs = cpuPerExchange(results.runs[peer] ?? []);
  return mine !== undefined && theirs !== undefined ? speedRatioFromSeconds(mine, theirs) : undefined;
}

const sum = (runs: readonly DhcpRun[], pick: (r: DhcpLoadResult) => number) => runs.reduce((n, r) => n + (r.result ? pick(r.result) : 0), 0);

export function renderDhcpTable(results: DhcpResults): string {
  const servers = [results.subject, ...results.peers];
  const rows = servers.map((server) => {
    const runs = results.runs[server] ?? [];
    const ok = runs.filter((r) => r.result);
    const rate = medianRate(runs);
    const p50 = ok.length ? median(ok.map((r) => r.result!.latencyMs.p50)) : undefined;
    const p99 = ok.length ? median(ok.map((r) => r.result!.latencyMs.p99)) : undefined;
    const errors = runs.filter((r) => r.error).length;
    const cpu = cpuPerExchange(runs);
    const genPerExchange = ok.filter((r) => r.result!.completed > 0).map((r) => (r.result!.generatorCpuSeconds * 1e6) / r.result!.completed);
    return [
      server,
      rate === undefined ? 'failed' : formatRate(rate),
      runs.map((r) => (r.result ? formatRate(r.result.exchangesPerSecond) : 'failed')).join(', '),
      `${sum(ok, (r) => r.completed)}/${sum(ok, (r) => r.exchanges)}`,
      String(sum(ok, (r) => r.retries)),
      String(sum(ok, (r) => r.failed) + errors),
      String(sum(ok, (r) => r.naks)),
      p50 === undefined ? '-' : p50.toFixed(2),
      p99 === undefined ? '-' : p99.toFixed(2),
      cpu === undefined ? '-' : formatRate(cpu),
      genPerExchange.length ? formatRate(median(genPerExchange)) : '-',
      runs.map((r) => (r.persisted === undefined ? '-' : String(r.persisted))).join(', '),
      server === results.subject ? '' : formatRatio(dhcpRatio(results, server)),
    ];
  });
  return renderTable(
    [
      { header: 'server' },
      { header: 'exchanges/s (median)', align: 'right' },
      { header: 'each run' },
      { header: 'completed', align: 'right' },
      { header: 'retries', align: 'right' },
      { header: 'failed', align: 'right' },
      { header: 'NAKs', align: 'right' },
      { header: 'p50 ms', align: 'right' },
      { header: 'p99 ms', align: 'right' },
      { header: 'server CPU µs/exchange', align: 'right' },
      { header: 'generator CPU µs/exchange', align: 'right' },
      { header: 'leases on disk after' },
      { header: `${results.subject}/server`, align: 'right' },
    ],
    rows,
  );
}

/** Median exchanges/s per tenth of the timed run, one row per server: how each scales with the leases it holds. */
export function renderTenthsTable(results: DhcpResults, warmup: number, exchanges: number): string {
  const servers = [results.subject, ...results.peers];
  const columns = Array.from({ length: 10 }, (_, k) => {
    const held = warmup + Math.round((exchanges * (k + 1)) / 10);
    return { header: `≤${held}`, align: 'right' as const };
  });
  const rows = servers.map((server) => {
    const curves = (results.runs[server] ?? []).filter((r) => r.result && r.result.tenths.length === 10).map((r) => r.result!.tenths);
    return [server, ...columns.map((_, k) => (curves.length ? formatRate(median(curves.map((c) => c[k]!))) : '-'))];
  });
  return renderTable([{ header: 'server (leases held →)' }, ...columns], rows);
}
