/**
 * Turns the TFTP benchmark's raw runs into the results table: median
 * seconds per server and setting, throughput, and trowel's speed ratio
 * against each peer (> 1 means trowel is faster). Pure, so it is tested
 * with made-up numbers.
 */
import { formatMiBps, formatRatio, formatSeconds, median, speedRatioFromSeconds } from './stats.ts';
import { renderTable, type Column } from './table.ts';

export interface TftpSetting {
  id: string;
  blksize: number;
  windowsize: number;
  lossPercent: number;
  bytes: number;
}

export interface TftpRun {
  rep: number;
  seconds?: number;
  error?: string;
  /** UDP packets the client namespace dropped during the run (lossy settings only). */
  dropped?: number;
  arrived?: number;
  /** CPU seconds the server used during the download. */
  serverCpuSeconds?: number;
}

/** Options a server put in its OACK, by "blksize/windowsize" of the probe request. */
export type OackByRequest = Record<string, Record<string, string>>;

export interface TftpResults {
  subject: string;
  peers: string[];
  settings: TftpSetting[];
  runs: Record<string, Record<string, TftpRun[]>>;
  oack: Record<string, OackByRequest>;
}

export interface Cell {
  seconds: number | undefined;
  failures: number;
  dropped: number | undefined;
}

export function summarize(runs: readonly TftpRun[]): Cell {
  const ok = runs.filter((r) => r.seconds !== undefined && r.error === undefined);
  const drops = ok.filter((r) => r.dropped !== undefined).map((r) => r.dropped!);
  return {
    seconds: ok.length > 0 ? median(ok.map((r) => r.seconds!)) : undefined,
    failures: runs.length - ok.length,
    dropped: drops.length > 0 ? median(drops) : undefined,
  };
}

/** trowel's speed ratio against `peer` at one setting, undefined if either has no successful run. */
export function ratioAt(results: TftpResults, setting: TftpSetting, peer: string): number | undefined {
  const mine = summarize(results.runs[setting.id]?.[results.subject] ?? []).seconds;
  const theirs = summarize(results.runs[setting.id]?.[peer] ?? []).seconds;
  return mine !== undefined && theirs !== undefined ? speedRatioFromSeconds(mine, theirs) : undefined;
}

/**
 * What one dropped packet cost a server at a lossy setting: the median over
 * runs of (run seconds - the lossless time for as many bytes) / drops. Loss
 * counts vary run to run (a few dozen drops), so this is fairer than the raw
 * seconds for comparing how servers recover.
 */
export function secondsPerDrop(results: TftpResults, setting: TftpSetting, server: string): number | undefined {
  const base = results.settings.find((s) => s.lossPercent === 0 && s.blksize === setting.blksize && s.windowsize === setting.windowsize);
  const baseSeconds = base && summarize(results.runs[base.id]?.[server] ?? []).seconds;
  if (!base || baseSeconds === undefined) return undefined;
  const expected = (baseSeconds * setting.bytes) / base.bytes;
  const costs = (results.runs[setting.id]?.[server] ?? [])
    .filter((r) => r.error === undefined && r.seconds !== undefined && (r.dropped ?? 0) > 0)
    .map((r) => (r.seconds! - expected) / r.dropped!);
  return costs.length > 0 ? median(costs) : undefined;
}

/**
 * The seconds a lossy run would take if every server lost the same share of
 * its packets: the lossless time for as many bytes plus the expected drops
 * (DATA packets x loss %) times the server's measured seconds per drop.
 * With a few dozen drops per run, the raw drop counts differ by tens of
 * percent between runs by chance alone; this takes that chance out.
 */
export function equalLossSeconds(results: TftpResults, setting: TftpSetting, server: string): number | undefined {
  const base = results.settings.find((s) => s.lossPercent === 0 && s.blksize === setting.blksize && s.windowsize === setting.windowsize);
  const baseSeconds = base && summarize(results.runs[base.id]?.[server] ?? []).seconds;
  const perDrop = secondsPerDrop(results, setting, server);
  if (!base || baseSeconds === undefined || perDrop === undefined) return undefined;
  const packets = Math.floor(setting.bytes / setting.blksize) + 1;
  return (baseSeconds * setting.bytes) / base.bytes + ((packets * setting.lossPercent) / 100) * Math.max(perDrop, 0);
}

/** trowel's speed ratio against `peer` at equal loss (see equalLossSeconds). */
export function equalLossRatioAt(results: TftpResults, setting: TftpSetting, peer: string): number | undefined {
  const mine = equalLossSeconds(results, setting, results.subject);
  const theirs = equalLossSeconds(results, setting, peer);
  return mine !== undefined && theirs !== undefined && mine > 0 && theirs > 0 ? speedRatioFromSeconds(mine, theirs) : undefined;
}

/** Servers whose OACK left out an option the request asked for. */
export function ignoredOptions(results: TftpResults, setting: TftpSetting): string[] {
  const key = `${setting.blksize}/${setting.windowsize}`;
  const notes: string[] = [];
  for (const server of [results.subject, ...results.peers]) {
    const oack = results.oack[server]?.[key];
    if (!oack) continue;
    if (setting.windowsize > 1 && oack.windowsize !== String(setting.windowsize)) notes.push(`${server} ignored windowsize`);
    if (oack.blksize !== String(setting.blksize)) notes.push(`${server} answered blksize ${oack.blksize ?? 'none (512)'}`);
  }
  return notes;
}

export function renderTftpTable(results: TftpResults, lossPercent: number): string {
  const settings = results.settings.filter((s) => s.lossPercent === lossPercent);
  const servers = [results.subject, ...results.peers];
  const columns: Column[] = [
    { header: 'blksize', align: 'right' },
    { header: 'window', align: 'right' },
    ...servers.map((s) => ({ header: `${s} s`, align: 'right' as const })),
    ...servers.map((s) => ({ header: `${s} MiB/s`, align: 'right' as const })),
    ...results.peers.map((p) => ({ header: `${results.subject}/${p}`, align: 'right' as const })),
  ];
  if (lossPercent > 0) {
    columns.push(...results.peers.map((p) => ({ header: `${results.subject}/${p} at equal loss`, align: 'right' as const })));
    columns.push({ header: 'drops per run (median)' }, { header: 's per drop (median)' });
  }
  columns.push({ header: 'notes' });
  const rows = settings.map((setting) => {
    const cells = servers.map((s) => summarize(results.runs[setting.id]?.[s] ?? []));
    const notes = ignoredOptions(results, setting);
    cells.forEach((c, i) => {
      if (c.failures > 0) notes.push(`${servers[i]} failed ${c.failures} run(s)`);
    });
    const row = [
      String(setting.blksize),
      String(setting.windowsize),
      ...cells.map((c) => (c.seconds === undefined ? 'failed' : formatSeconds(c.seconds))),
      ...cells.map((c) => (c.seconds === undefined ? '-' : formatMiBps(setting.bytes, c.seconds))),
      ...results.peers.map((p) => formatRatio(ratioAt(results, setting, p))),
    ];
    if (lossPercent > 0) {
      row.push(...results.peers.map((p) => formatRatio(equalLossRatioAt(results, setting, p))));
      row.push(cells.map((c, i) => `${servers[i]} ${c.dropped ?? '-'}`).join(', '));
      row.push(servers.map((s) => `${s} ${secondsPerDrop(results, setting, s)?.toFixed(2) ?? '-'}`).join(', '));
    }
    row.push(notes.join('; '));
    return row;
  });
  return renderTable(columns, rows);
}

/**
 * One line per peer: at how many settings trowel is at least as fast, and
 * where it is not, by the measured medians, or by `ratio` when given.
 */
export function renderGoal(results: TftpResults, peer: string, ratio = ratioAt, settings = results.settings, what = ''): string {
  const even: string[] = [];
  const misses: string[] = [];
  let met = 0;
  let measured = 0;
  for (const s of settings) {
    const r = ratio(results, s, peer);
    if (r === undefined) continue;
    measured += 1;
    const where = `blksize ${s.blksize} window ${s.windowsize} loss ${s.lossPercent}%: ${r < 1 && r >= 0.995 ? r.toFixed(3) + '×' : formatRatio(r)}`;
    if (r >= 1) met += 1;
    // Within 1% is a tie at this precision, not a loss worth chasing; listed apart so it isn't hidden either.
    else if (r >= 0.99) even.push(where);
    else misses.push(where);
  }
  return `- ≥ 1.0× ${peer}${what}: met at ${met} of ${measured} settings` +
    (even.length ? `; within 1% at ${even.join(', ')}` : '') +
    (misses.length ? `; slower at ${misses.join(', ')}` : '');
}

/** Every run's seconds, so the spread behind each median is visible. */
export function renderAllRuns(results: TftpResults): string {
  const servers = [results.subject, ...results.peers];
  return results.settings.map((setting) => {
    const parts = servers.map((server) => {
      const runs = results.runs[setting.id]?.[server] ?? [];
      const text = runs.map((r) => (r.seconds !== undefined && r.error === undefined ? formatSeconds(r.seconds) + (r.dropped !== undefined ? ` (${r.dropped} drops)` : '') : 'failed')).join(', ');
      return `${server} ${text || '-'}`;
    });
    return `- blksize ${setting.blksize} window ${setting.windowsize} loss ${setting.lossPercent}%: ${parts.join('; ')}`;
  }).join('\n') + '\n';
}

/**
 * Server CPU time per DATA block sent (lossless settings): the cost of one
 * block on a server, independent of how busy the shared machine was.
 */
export function renderCpuTable(results: TftpResults): string {
  const settings = results.settings.filter((s) => s.lossPercent === 0);
  const servers = [results.subject, ...results.peers];
  const rows = settings.map((setting) => {
    const blocks = Math.floor(setting.bytes / setting.blksize) + 1;
    const perBlock = servers.map((server) => {
      const cpu = (results.runs[setting.id]?.[server] ?? []).filter((r) => r.error === undefined && r.serverCpuSeconds !== undefined).map((r) => r.serverCpuSeconds!);
      return cpu.length ? (median(cpu) * 1e6) / blocks : undefined;
    });
    return [String(setting.blksize), String(setting.windowsize), ...perBlock.map((us) => (us === undefined ? '-' : us.toFixed(1)))];
  });
  return renderTable(
    [{ header: 'blksize', align: 'right' }, { header: 'window', align: 'right' }, ...servers.map((s) => ({ header: `${s} µs/block`, align: 'right' as const }))],
    rows,
  );
}
