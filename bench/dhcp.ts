/**
 * DHCP full exchanges (DORA) per second: trowel vs dnsmasq, driven by the
 * load generator in bench/lib/dhcp-load.ts from the client namespace.
 *
 *   npx node bench/dhcp.ts [--quick] [--reps N]
 *
 * Writes bench/results/dhcp.md and dhcp.json (dhcp.quick.* with --quick).
 * Every run starts its server on an empty lease store, sends an untimed
 * warm-up, then times a fixed number of exchanges from fresh MACs.
 * Repetitions interleave the servers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs } from './lib/args.ts';
import { onCleanup } from './lib/cleanup.ts';
import { DHCP_PEERS, type DhcpPeer, type Pool } from './lib/dhcp-peers.ts';
import type { DhcpLoadResult } from './lib/dhcp-load.ts';
import { dhcpCpuRatio, dhcpRatio, renderDhcpTable, renderTenthsTable, type DhcpResults, type DhcpRun } from './lib/dhcp-report.ts';
import { describeEnvironment, renderEnvironment, type Environment } from './lib/environment.ts';
import { writeResults } from './lib/results.ts';
import { runBenchmark } from './lib/entry.ts';
import { createRig, type Rig } from './lib/rig.ts';
import { sampleLoad } from './lib/load-sampler.ts';
import type { ServerProcess } from './lib/server-process.ts';
import { trowelAt, trowelWorktree, type TrowelBuild } from './lib/trowel.ts';
import { formatRate, formatRatio } from './lib/stats.ts';

interface Plan {
  exchanges: number;
  warmup: number;
  window: number;
  timeoutMs: number;
  attempts: number;
  reps: number;
}

/** What a run writes to bench/results/dhcp.json, and all a report is rendered from. */
interface Raw {
  command: string;
  environment: Environment;
  plan: Plan;
  minutes: string;
  results: DhcpResults;
  pool: Pool;
}

const FULL: Plan = { exchanges: 10_000, warmup: 500, window: 32, timeoutMs: 1000, attempts: 4, reps: 3 };
const QUICK: Plan = { exchanges: 2000, warmup: 200, window: 32, timeoutMs: 1000, attempts: 4, reps: 1 };
const POOL: Pool = { first: '10.82.1.0', last: '10.82.255.254', netmask: '255.255.0.0' };
const LOAD_MAIN = join(import.meta.dirname, 'lib', 'dhcp-load-main.ts');

const args = parseBenchArgs('bench/dhcp.ts', process.argv.slice(2));
const plan: Plan = { ...(args.quick ? QUICK : FULL), ...(args.reps ? { reps: args.reps } : {}) };
const peers = DHCP_PEERS.filter((p) => !args.servers || args.servers.includes(p.name));

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'trowel-bench-dhcp-'));
  onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const trowel = args.trowel === 'worktree' ? await trowelWorktree() : await trowelAt(args.trowel, work);
  const env = await describeEnvironment({ dnsmasq: ['dnsmasq', ['--version']] }, trowel.label);
  const rig = await createRig({ serverCidr: '10.82.0.1/16', clientCidr: '10.82.0.2/16', clientDefaultRoute: true });
  const results: DhcpResults = {
    subject: DHCP_PEERS[0]!.name,
    peers: DHCP_PEERS.slice(1).map((p) => p.name),
    runs: Object.fromEntries(DHCP_PEERS.map((p) => [p.name, [] as DhcpRun[]])),
  };
  const load = sampleLoad();
  const started = Date.now();
  for (let rep = 1; rep <= plan.reps; rep++) {
    for (const peer of peers) results.runs[peer.name]!.push(await measure(rig, peer, rep, join(work, `${peer.name}-${rep}`), trowel));
  }
  env.loadDuringRun = load.stop();
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const raw: Raw = { command: args.command, environment: env, plan, minutes, pool: POOL, results };
  const markdown = renderReport(raw);
  const written = writeResults('dhcp', args.quick, markdown, raw);
  process.stdout.write(markdown);
  process.stderr.write(`\nwrote ${written.markdown} and ${written.json} (${minutes} min)\n`);
  await rig.destroy();
}

async function measure(rig: Rig, peer: DhcpPeer, rep: number, dir: string, trowel: TrowelBuild): Promise<DhcpRun> {
  const label = `[rep ${rep}/${plan.reps}] ${peer.name.padEnd(8)}`;
  const run: DhcpRun = { rep };
  let server: ServerProcess;
  try {
    server = await peer.start({ rig, pool: POOL, dir, trowel });
  } catch (e) {
    run.error = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${label}: ${run.error}\n`);
    return run;
  }
  // A different MAC range per run, so a bug that keeps state across runs can't help.
  const macBase = rep * 1_000_000;
  const load = (exchanges: number, base: number) => rig.client.exec(process.execPath, [
    LOAD_MAIN,
    '--exchanges', String(exchanges), '--window', String(plan.window),
    '--timeout-ms', String(plan.timeoutMs), '--attempts', String(plan.attempts), '--mac-base', String(base),
  ], { timeoutMs: 15 * 60_000 });
  try {
    // The warm-up is its own generator run, so the server's CPU time can be read around the timed one alone.
    await load(plan.warmup, macBase);
    const cpuBefore = server.cpuSeconds();
    const { stdout } = await load(plan.exchanges, macBase + plan.warmup);
    run.serverCpuSeconds = server.cpuSeconds() - cpuBefore;
    run.result = JSON.parse(stdout.trim().split('\n').at(-1)!) as DhcpLoadResult;
    const r = run.result;
    process.stderr.write(`${label}: ${formatRate(r.exchangesPerSecond)} exchanges/s (${r.completed}/${r.exchanges} in ${r.seconds.toFixed(2)} s, ` +
      `${r.retries} retries, ${r.failed} failed, p99 ${r.latencyMs.p99.toFixed(1)} ms, server CPU ${run.serverCpuSeconds.toFixed(2)} s, ` +
      `generator CPU ${r.generatorCpuSeconds.toFixed(2)} s)\n`);
  } catch (e) {
    run.error = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${label}: FAILED: ${run.error}\n`);
  } finally {
    await server.stop();
  }
  try {
    run.persisted = peer.persistedLeases(dir);
  } catch (e) {
    process.stderr.write(`${label}: cannot count persisted leases: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  return run;
}

function renderReport(raw: Raw, note?: string): string {
  const { command, environment: env, results, minutes, plan } = raw;
  const poolSize = ipNumber(POOL.last) - ipNumber(POOL.first) + 1;
  return [
    '# DHCP benchmark: trowel vs dnsmasq, full DORA exchanges per second',
    '',
    renderEnvironment(command, env),
    ...(note ? [note, ''] : []),
    `Took ${minutes} minutes. ${plan.reps} run(s) per server; the table shows the median and every run.`,
    'The ratio is trowel\'s exchanges/s over the server\'s: above 1.00× trowel is faster.',
    '',
    '## Setup',
    '',
    '- Two network namespaces joined by one veth pair, MTU 1500: server 10.82.0.1/16, load generator 10.82.0.2/16.',
    `- Pool for both servers: ${POOL.first}-${POOL.last} (${poolSize} addresses), lease time 1 h, router and DNS options set.`,
    '  Every run starts the server with an empty lease store.',
    `- Load generator: bench/lib/dhcp-load.ts (trowel's own DHCP codec), one process in the client namespace.`,
    `  ${plan.warmup} untimed warm-up exchanges, then ${plan.exchanges} timed ones, each from a distinct MAC (02:xx:…),`,
    `  ${plan.window} exchanges in flight. An exchange is DISCOVER → OFFER → REQUEST (options 50, 54) → ACK; the broadcast`,
    '  flag is set so replies reach the generator, which owns none of the offered addresses. A step with no answer',
    `  within ${plan.timeoutMs} ms is resent with the same xid, up to ${plan.attempts} sends, then the exchange counts as failed.`,
    '  Time runs from the first timed DISCOVER to the last ACK.',
    '- No ping before offering: dnsmasq runs with `--no-ping`; trowel sends no ICMP probe at all.',
    '- Logging: each server at its default level, its output drained by the harness (dnsmasq logs every DHCP packet',
    '  to stderr with `--log-facility=-`; trowel writes one JSON line per reply).',
    '- Servers:',
    ...DHCP_PEERS.map((p) => `  - ${p.name}: ${p.describe(POOL)}`),
    '',
    '## Results',
    '',
    renderDhcpTable(results),
    '"leases on disk after": leases each server had persisted when it stopped (warm-up included), one number per run.',
    '',
    '### Rate as the lease count grows',
    '',
    `Exchanges/s in each tenth of the timed run (median over runs); the header is the number of leases the server holds`,
    'at the end of that tenth. Every exchange adds a lease, so a falling row means per-exchange cost grows with the lease count.',
    '',
    renderTenthsTable(results, plan.warmup, plan.exchanges),
    '## Goal (issue 2: ≥ 1.0× dnsmasq)',
    '',
    ...results.peers.map((p) => {
      const r = dhcpRatio(results, p);
      return `- ${results.subject}/${p} in exchanges/s: ${formatRatio(r)}: ${r === undefined ? 'not measured' : r >= 1 ? 'met' : 'not met'}`;
    }),
    ...results.peers.map((p) => `- ${results.subject}/${p} in server CPU per exchange (less depends on what else ran): ${formatRatio(dhcpCpuRatio(results, p))}`),
    '',
  ].join('\n');
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

await runBenchmark<Raw>({ script: 'bench/dhcp.ts', command: args.command, render: args.render, renderReport, main });
