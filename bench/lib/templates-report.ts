/**
 * The arithmetic and the tables of the template benchmark (issue 3,
 * "Benchmarks"): serving rates of trowel and nginx, the per-client pipeline
 * against `btrfs send | btrfs receive`, zstd against gzip, and the size of
 * an incremental stream against the bytes that changed. Pure functions over
 * the raw runs, so a report can be rebuilt from its JSON and unit-tested.
 */
import { formatRatio, median } from './stats.ts';
import { renderTable } from './table.ts';

/** MB/s here are 10^6 bytes per second, as the issue states its rates. */
export const MB = 1e6;

export type Failed = { rep: number; error: string };

export interface ServeMeasured {
  rep: number;
  /** Whole downloads of the stream that completed (clients x fetches per client). */
  downloads: number;
  /** Body bytes the clients received, every download checked to be the stream's length. */
  bytes: number;
  /** From the first client's start to the last one's end. */
  seconds: number;
  /** CPU the server (all its processes) used during the run. */
  serverCpuSeconds: number;
}
export type ServeRun = ServeMeasured | Failed;

export interface ServeResults {
  /** The compressed stream's length, the file both servers send. */
  streamBytes: number;
  subject: string;
  peer: string;
  /** Servers measured for reference only (no goal), e.g. the plainest Node server. */
  references: string[];
  clients: number[];
  /** Sequential downloads each client makes, per client count (so a run moves enough bytes to time). */
  fetchesPerClient: Record<string, number>;
  /** runs[clients][server] */
  runs: Record<string, Record<string, ServeRun[]>>;
}

export interface PipelineMeasured {
  rep: number;
  /** The command itself (fetch, decompress, receive; or send | receive). */
  seconds: number;
  /** The `sync` after it, which writes out what the receive left in the page cache. */
  syncSeconds: number;
  /** CPU of the command's processes (bash `times` of its children), user and system. */
  userSeconds?: number;
  systemSeconds?: number;
}
export type PipelineRun = PipelineMeasured | Failed;

export interface PipelineMethod {
  id: string;
  label: string;
}

export interface PipelineResults {
  /** The send stream's uncompressed length: the rate's numerator for every method. */
  uncompressedBytes: number;
  compressedBytes: number;
  subject: string;
  peer: string;
  methods: PipelineMethod[];
  runs: Record<string, PipelineRun[]>;
}

export interface CodecMeasured {
  rep: number;
  compressedBytes: number;
  compressSeconds: number;
  decompressSeconds: number;
}
export type CodecRun = CodecMeasured | Failed;

export interface Codec {
  id: string;
  label: string;
}

export interface CodecResults {
  /** Bytes of the uncompressed send stream the codecs work on. */
  inputBytes: number;
  codecs: Codec[];
  runs: Record<string, CodecRun[]>;
}

export interface IncrementalResult {
  /** Non-empty regular files (distinct inodes) in the first version, programs and libraries excepted (templates-change.ts). */
  files: number;
  changedFiles: number;
  /** Sum of the changed files' sizes: every byte of each was rewritten. */
  changedBytes: number;
  uncompressedBytes: number;
  compressedBytes: number;
  /** Body bytes of GET .../stream?parent= (must equal compressedBytes). */
  fetchedBytes: number;
  /** The first request's `btrfs send -p` + zstd into the cache. */
  sendSeconds: number;
  /** `trowel template receive --parent` of it onto a received first version, verified. */
  receiveSeconds?: number;
  error?: string;
}

export function isMeasured<T extends { rep: number }>(run: T | Failed): run is T {
  return !('error' in run);
}

/** Aggregate MB/s of one serving run. */
export function serveRate(run: ServeMeasured): number {
  return run.bytes / MB / run.seconds;
}

/** Median aggregate MB/s of a server at a client count; undefined when no run succeeded. */
export function medianServeRate(results: ServeResults, clients: number, server: string): number | undefined {
  const ok = (results.runs[String(clients)]?.[server] ?? []).filter(isMeasured);
  return ok.length ? median(ok.map(serveRate)) : undefined;
}

/** Median server CPU seconds per GB sent. */
export function medianServeCpuPerGB(results: ServeResults, clients: number, server: string): number | undefined {
  const ok = (results.runs[String(clients)]?.[server] ?? []).filter(isMeasured);
  return ok.length ? median(ok.map((r) => r.serverCpuSeconds / (r.bytes / 1e9))) : undefined;
}

/** trowel's median rate over nginx's at a client count (above 1: trowel faster). */
export function serveRatio(results: ServeResults, clients: number): number | undefined {
  const s = medianServeRate(results, clients, results.subject);
  const p = medianServeRate(results, clients, results.peer);
  return s !== undefined && p !== undefined ? s / p : undefined;
}

/** Rate of a pipeline run: uncompressed stream MB per second of command plus sync. */
export function pipelineRate(results: PipelineResults, run: PipelineMeasured): number {
  return results.uncompressedBytes / MB / (run.seconds + run.syncSeconds);
}

export function medianPipelineRate(results: PipelineResults, method: string): number | undefined {
  const ok = (results.runs[method] ?? []).filter(isMeasured);
  return ok.length ? median(ok.map((r) => pipelineRate(results, r))) : undefined;
}

export function pipelineRatio(results: PipelineResults): number | undefined {
  const s = medianPipelineRate(results, results.subject);
  const p = medianPipelineRate(results, results.peer);
  return s !== undefined && p !== undefined ? s / p : undefined;
}

export interface CodecSummary {
  compressedBytes: number;
  /** Compressed size over input size. */
  ratio: number;
  compressMBps: number;
  /** Uncompressed MB out per second. */
  decompressMBps: number;
}

export function summarizeCodec(results: CodecResults, id: string): CodecSummary | undefined {
  const ok = (results.runs[id] ?? []).filter(isMeasured);
  if (!ok.length) return undefined;
  const compressedBytes = median(ok.map((r) => r.compressedBytes));
  return {
    compressedBytes,
    ratio: compressedBytes / results.inputBytes,
    compressMBps: median(ok.map((r) => results.inputBytes / MB / r.compressSeconds)),
    decompressMBps: median(ok.map((r) => results.inputBytes / MB / r.decompressSeconds)),
  };
}

/** Bytes sent (compressed) and the uncompressed stream, each over the changed bytes. */
export function incrementalRatios(r: IncrementalResult): { compressed: number; uncompressed: number } {
  if (!(r.changedBytes > 0)) throw new RangeError(`Cannot compare an incremental stream with ${r.changedBytes} changed bytes`);
  return { compressed: r.compressedBytes / r.changedBytes, uncompressed: r.uncompressedBytes / r.changedBytes };
}

/** Rates with one decimal, more below 10 ("1234.5", "9.87"). */
export function formatMBps(rate: number | undefined): string {
  if (rate === undefined || !Number.isFinite(rate)) return 'n/a';
  return rate.toFixed(rate < 10 ? 2 : 1);
}

/** Bytes as MB with enough digits to compare sizes ("182.91 MB", "0.42 MB"). */
export function formatMB(bytes: number): string {
  return `${(bytes / MB).toFixed(2)} MB`;
}

function failures<T extends { rep: number }>(runs: readonly (T | Failed)[]): string {
  const failed = runs.filter((r): r is Failed => !isMeasured(r));
  return failed.length ? ` (${failed.length} failed)` : '';
}

export function renderServeTable(results: ServeResults): string {
  const { subject, peer } = results;
  const servers = [subject, peer, ...results.references];
  const others = servers.slice(1);
  const cpu = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(2));
  const ratio = (n: number, other: string) => {
    const s = medianServeRate(results, n, subject);
    const o = medianServeRate(results, n, other);
    return s !== undefined && o !== undefined ? s / o : undefined;
  };
  const rows = results.clients.map((n) => {
    const runs = results.runs[String(n)] ?? {};
    return [
      String(n),
      String(results.fetchesPerClient[String(n)] ?? 1),
      ...servers.map((server) => formatMBps(medianServeRate(results, n, server)) + failures(runs[server] ?? [])),
      ...others.map((other) => (other === peer ? `**${formatRatio(ratio(n, other))}**` : formatRatio(ratio(n, other)))),
      ...servers.map((server) => cpu(medianServeCpuPerGB(results, n, server))),
    ];
  });
  return renderTable([
    { header: 'clients', align: 'right' },
    { header: 'downloads per client', align: 'right' },
    ...servers.map((server) => ({ header: `${server} MB/s`, align: 'right' as const })),
    ...others.map((other) => ({ header: `${subject} / ${other}`, align: 'right' as const })),
    ...servers.map((server) => ({ header: `${server} CPU s/GB`, align: 'right' as const })),
  ], rows);
}

export function renderPipelineTable(results: PipelineResults): string {
  const peerRate = medianPipelineRate(results, results.peer);
  const rows = results.methods.map((m) => {
    const runs = results.runs[m.id] ?? [];
    const ok = runs.filter(isMeasured);
    const rate = medianPipelineRate(results, m.id);
    const cpu = ok.filter((r) => r.userSeconds !== undefined && r.systemSeconds !== undefined);
    return [
      m.label,
      ok.length ? median(ok.map((r) => r.seconds)).toFixed(2) : 'n/a',
      ok.length ? median(ok.map((r) => r.syncSeconds)).toFixed(2) : 'n/a',
      cpu.length ? `${median(cpu.map((r) => r.userSeconds!)).toFixed(2)} + ${median(cpu.map((r) => r.systemSeconds!)).toFixed(2)}` : 'n/a',
      formatMBps(rate) + failures(runs),
      m.id === results.peer ? '1.00×' : formatRatio(rate !== undefined && peerRate !== undefined ? rate / peerRate : undefined),
    ];
  });
  return renderTable([
    { header: 'method' },
    { header: 'command s', align: 'right' },
    { header: 'sync s', align: 'right' },
    { header: 'CPU s, user + system', align: 'right' },
    { header: 'MB/s (uncompressed stream)', align: 'right' },
    { header: `vs ${results.peer}`, align: 'right' },
  ], rows);
}

export function renderCodecTable(results: CodecResults): string {
  const rows = results.codecs.map((c) => {
    const s = summarizeCodec(results, c.id);
    const fail = failures(results.runs[c.id] ?? []);
    if (!s) return [c.label, 'n/a', 'n/a', 'n/a', `n/a${fail}`];
    return [c.label, formatMB(s.compressedBytes), `${(s.ratio * 100).toFixed(1)}%`, formatMBps(s.compressMBps), formatMBps(s.decompressMBps) + fail];
  });
  return renderTable([
    { header: 'codec' },
    { header: 'compressed', align: 'right' },
    { header: 'of input', align: 'right' },
    { header: 'compress MB/s', align: 'right' },
    { header: 'decompress MB/s', align: 'right' },
  ], rows);
}

export function renderIncrementalTable(r: IncrementalResult): string {
  const ratios = r.changedBytes > 0 ? incrementalRatios(r) : undefined;
  const rows = [
    ['non-empty regular files in v1, programs and libraries excepted', String(r.files)],
    ['files rewritten with random bytes (same sizes)', `${r.changedFiles} (${((r.changedFiles / r.files) * 100).toFixed(2)}%)`],
    ['changed bytes', `${r.changedBytes} (${formatMB(r.changedBytes)})`],
    ['incremental stream, uncompressed', `${r.uncompressedBytes} (${formatMB(r.uncompressedBytes)})`],
    ['incremental stream, compressed = bytes sent', `${r.compressedBytes} (${formatMB(r.compressedBytes)})`],
    ['bytes a client fetched (GET .../stream?parent=v1)', String(r.fetchedBytes)],
    ['**sent / changed**', `**${formatRatio(ratios?.compressed)}**`],
    ['uncompressed / changed', formatRatio(ratios?.uncompressed)],
    ['btrfs send -p + zstd into the cache (first request)', `${r.sendSeconds.toFixed(2)} s`],
    ['trowel template receive --parent v1 (verified)', r.receiveSeconds === undefined ? 'n/a' : `${r.receiveSeconds.toFixed(2)} s`],
  ];
  return renderTable([{ header: 'incremental update' }, { header: 'value', align: 'right' }], rows);
}

/** One line per goal of issue 3: the figure, the goal, met or missed and by how much. */
export function renderGoals(serve: ServeResults, pipeline: PipelineResults, incremental: IncrementalResult | undefined): string[] {
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? '**met**' : '**missed**');
  const lines = serve.clients.map((n) => {
    const r = serveRatio(serve, n);
    return `- Serving, ${n} client(s): ${formatRatio(r)} ${serve.peer} (goal ≥ 0.90×): ${verdict(r === undefined ? undefined : r >= 0.9)}` +
      (r !== undefined && r < 0.9 ? `, short by ${((0.9 - r) * 100).toFixed(0)} points` : '');
  });
  const p = pipelineRatio(pipeline);
  lines.push(`- Per-client pipeline: ${formatRatio(p)} \`btrfs send | btrfs receive\` (goal ≥ 0.90×): ${verdict(p === undefined ? undefined : p >= 0.9)}` +
    (p !== undefined && p < 0.9 ? `, short by ${((0.9 - p) * 100).toFixed(0)} points` : ''));
  if (incremental && !incremental.error && incremental.changedBytes > 0) {
    const { compressed } = incrementalRatios(incremental);
    lines.push(`- Incremental: ${formatRatio(compressed)} the changed bytes sent (goal ≤ 1.10×): ${verdict(compressed <= 1.1)}`);
  } else {
    lines.push(`- Incremental: ${incremental?.error ? `failed: ${incremental.error}` : 'not measured'}`);
  }
  return lines;
}

/** Every run of every part, for the record. */
export function renderAllRuns(serve: ServeResults, pipeline: PipelineResults, codecs: CodecResults): string {
  const serveRows = serve.clients.flatMap((n) => [serve.subject, serve.peer, ...serve.references].flatMap((server) =>
    (serve.runs[String(n)]?.[server] ?? []).map((r) => isMeasured(r)
      ? [`serve ${n}`, server, String(r.rep), `${r.downloads} downloads, ${formatMB(r.bytes)} in ${r.seconds.toFixed(3)} s = ${formatMBps(serveRate(r))} MB/s, server CPU ${r.serverCpuSeconds.toFixed(2)} s`]
      : [`serve ${n}`, server, String(r.rep), `FAILED: ${r.error}`])));
  const pipelineRows = pipeline.methods.flatMap((m) => (pipeline.runs[m.id] ?? []).map((r) => isMeasured(r)
    ? ['pipeline', m.id, String(r.rep), `${r.seconds.toFixed(3)} s + sync ${r.syncSeconds.toFixed(3)} s = ${formatMBps(pipelineRate(pipeline, r))} MB/s` +
      (r.userSeconds !== undefined ? `, CPU ${r.userSeconds.toFixed(2)} user + ${(r.systemSeconds ?? 0).toFixed(2)} system` : '')]
    : ['pipeline', m.id, String(r.rep), `FAILED: ${r.error}`]));
  const codecRows = codecs.codecs.flatMap((c) => (codecs.runs[c.id] ?? []).map((r) => isMeasured(r)
    ? ['codec', c.id, String(r.rep), `${r.compressedBytes} bytes, compress ${r.compressSeconds.toFixed(3)} s, decompress ${r.decompressSeconds.toFixed(3)} s`]
    : ['codec', c.id, String(r.rep), `FAILED: ${r.error}`]));
  return renderTable([{ header: 'part' }, { header: 'who' }, { header: 'rep', align: 'right' }, { header: 'result' }], [...serveRows, ...pipelineRows, ...codecRows]);
}
