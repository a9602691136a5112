/**
 * TFTP read throughput: trowel vs dnsmasq vs tftpd-hpa, one client (atftp),
 * blksize 512/1468 x windowsize 1/16, lossless and with 1% random drop.
 *
 *   npx node bench/tftp.ts [--quick] [--reps N]
 *
 * Writes bench/results/tftp.md and tftp.json (tftp.quick.* with --quick).
 * All servers run at once, each in its own namespace (lib/rig.ts createStar);
 * every setting is measured on each server back to back, the first server
 * rotating per repetition, so a slow patch of a shared machine hits them alike.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs } from './lib/args.ts';
import { atftpGet, parseOack } from './lib/atftp.ts';
import { onCleanup } from './lib/cleanup.ts';
import { describeEnvironment, renderEnvironment, type Environment } from './lib/environment.ts';
import { sha256File, writeRandomFile } from './lib/files.ts';
import { disableLoss, enableLoss, takeLossCounts } from './lib/loss.ts';
import { createStar, type Rig } from './lib/rig.ts';
import { sampleLoad } from './lib/load-sampler.ts';
import type { ServerProcess } from './lib/server-process.ts';
import { MiB, formatMiBps, formatSeconds } from './lib/stats.ts';
import { TFTP_PEERS, type TftpPeer } from './lib/tftp-peers.ts';
import { trowelAt, trowelWorktree } from './lib/trowel.ts';
import { equalLossRatioAt, renderAllRuns, renderCpuTable, renderGoal, renderTftpTable, type TftpResults, type TftpRun, type TftpSetting } from './lib/tftp-report.ts';
import { writeResults } from './lib/results.ts';
import { runBenchmark } from './lib/entry.ts';

interface Plan {
  bigBytes: number;
  lossyBytes: number;
  reps: number;
  lossPercent: number;
}

/** What a run writes to bench/results/tftp.json, and all a report is rendered from. */
interface Raw {
  command: string;
  environment: Environment;
  plan: Plan;
  minutes: string;
  results: TftpResults;
}

const FULL: Plan = { bigBytes: 64 * MiB, lossyBytes: 1 * MiB, reps: 3, lossPercent: 1 };
const QUICK: Plan = { bigBytes: 8 * MiB, lossyBytes: 128 * 1024, reps: 1, lossPercent: 1 };
const BLKSIZES = [512, 1468];
const WINDOWS = [1, 16];
/** The RFC 2349 timeout (s) asked of every server, and atftp's own, in lossy runs. */
const LOSSY_TIMEOUT = 1;
const PROBE_BYTES = 64 * 1024;

const args = parseBenchArgs('bench/tftp.ts', process.argv.slice(2));
const plan = { ...(args.quick ? QUICK : FULL), ...(args.reps ? { reps: args.reps } : {}) };
const peers = TFTP_PEERS.filter((p) => !args.servers || args.servers.includes(p.name));

function settingsFor(p: Plan): TftpSetting[] {
  const out: TftpSetting[] = [];
  for (const lossPercent of [0, p.lossPercent]) {
    for (const blksize of BLKSIZES) {
      for (const windowsize of WINDOWS) {
        out.push({ id: `b${blksize}-w${windowsize}-l${lossPercent}`, blksize, windowsize, lossPercent, bytes: lossPercent ? p.lossyBytes : p.bigBytes });
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'trowel-bench-tftp-'));
  onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const trowel = args.trowel === 'worktree' ? await trowelWorktree() : await trowelAt(args.trowel, work);
  const env = await describeEnvironment({
    dnsmasq: ['dnsmasq', ['--version']],
    'tftpd-hpa': ['in.tftpd', ['-V']],
    'atftp (client)': ['atftp', ['--version']],
  }, trowel.label);
  // Servers that drop privileges (dnsmasq, in.tftpd as nobody) must reach the files.
  chmodSync(work, 0o755);
  const root = join(work, 'root');
  const out = join(work, 'out');
  mkdirSync(root, { mode: 0o755 });
  mkdirSync(out, { mode: 0o777 });
  chmodSync(root, 0o755);
  const digests = {
    big: writeRandomFile(join(root, 'big.bin'), plan.bigBytes),
    lossy: writeRandomFile(join(root, 'lossy.bin'), plan.lossyBytes),
    probe: writeRandomFile(join(root, 'probe.bin'), PROBE_BYTES),
  };

  const star = await createStar(81, peers.length);
  const settings = settingsFor(plan);
  const results: TftpResults = {
    subject: TFTP_PEERS[0]!.name,
    peers: TFTP_PEERS.slice(1).map((p) => p.name),
    settings,
    runs: Object.fromEntries(settings.map((s) => [s.id, Object.fromEntries(TFTP_PEERS.map((p) => [p.name, [] as TftpRun[]]))])),
    oack: {},
  };
  const load = sampleLoad();
  const started = Date.now();

  // Every server runs at once, each in its own namespace on its own link.
  const running: { peer: TftpPeer; rig: Rig; server: ServerProcess }[] = [];
  for (const [i, peer] of peers.entries()) {
    const rig = star.rigs[i]!;
    try {
      const server = await peer.start({ rig, root, workDir: work, trowel });
      // One untimed download first: a long-running server is warm (trowel's JIT, everyone's page cache).
      await atftpGet(rig.client, { server: rig.serverAddress, remote: 'lossy.bin', local: join(out, 'warmup.bin'), blksize: 1468, windowsize: 1, limitMs: 60_000 });
      rmSync(join(out, 'warmup.bin'), { force: true });
      results.oack[peer.name] = await probeOptions(rig, out);
      running.push({ peer, rig, server });
    } catch (e) {
      // A server that won't start fails its runs; the others still count.
      const error = e instanceof Error ? e.message : String(e);
      process.stderr.write(`${peer.name}: ${error}\n`);
      for (const setting of settings) results.runs[setting.id]![peer.name]!.push({ rep: 0, error });
    }
  }

  for (const lossPercent of [0, plan.lossPercent]) {
    if (lossPercent > 0) {
      await enableLoss(star.client, lossPercent);
      await takeLossCounts(star.client);
    }
    try {
      for (let rep = 1; rep <= plan.reps; rep++) {
        for (const setting of settings.filter((s) => s.lossPercent === lossPercent)) {
          // The servers back to back, the first one rotating with the repetition.
          for (let k = 0; k < running.length; k++) {
            const { peer, rig, server } = running[(k + rep - 1) % running.length]!;
            const run = await measure(rig, server, peer, setting, rep, out, lossPercent > 0 ? digests.lossy : digests.big);
            if (lossPercent > 0) Object.assign(run, await takeLossCounts(star.client));
            results.runs[setting.id]![peer.name]!.push(run);
          }
        }
      }
    } finally {
      if (lossPercent > 0) await disableLoss(star.client);
    }
  }
  for (const { server } of running) await server.stop();

  env.loadDuringRun = load.stop();
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const raw: Raw = { command: args.command, environment: env, plan, minutes, results };
  const markdown = renderReport(raw);
  const written = writeResults('tftp', args.quick, markdown, raw);
  process.stdout.write(markdown);
  process.stderr.write(`\nwrote ${written.markdown} and ${written.json} (${minutes} min)\n`);
  await star.destroy();
}

/** Which options each server acknowledges, from one traced download of a small file per request shape. */
async function probeOptions(rig: Rig, out: string): Promise<Record<string, Record<string, string>>> {
  const seen: Record<string, Record<string, string>> = {};
  for (const blksize of BLKSIZES) {
    for (const windowsize of WINDOWS) {
      const local = join(out, 'probe.bin');
      const { output } = await atftpGet(rig.client, {
        server: rig.serverAddress, remote: 'probe.bin', local, blksize, windowsize, timeout: LOSSY_TIMEOUT, trace: true, limitMs: 30_000,
      });
      seen[`${blksize}/${windowsize}`] = parseOack(output);
      rmSync(local, { force: true });
    }
  }
  return seen;
}

async function measure(rig: Rig, server: ServerProcess, peer: TftpPeer, setting: TftpSetting, rep: number, out: string, digest: string): Promise<TftpRun> {
  const lossy = setting.lossPercent > 0;
  const local = join(out, `${peer.name}-${setting.id}-${rep}.bin`);
  const label = `[rep ${rep}/${plan.reps}] ${peer.name.padEnd(9)} blksize ${String(setting.blksize).padStart(4)} window ${String(setting.windowsize).padStart(2)} loss ${setting.lossPercent}%`;
  try {
    const cpuBefore = server.cpuSeconds();
    const { seconds } = await atftpGet(rig.client, {
      server: rig.serverAddress,
      remote: lossy ? 'lossy.bin' : 'big.bin',
      local,
      blksize: setting.blksize,
      windowsize: setting.windowsize,
      ...(lossy ? { timeout: LOSSY_TIMEOUT, clientTimeout: LOSSY_TIMEOUT } : {}),
      limitMs: lossy ? 600_000 : 300_000,
    });
    // tftpd-hpa's per-transfer child may still be exiting; its CPU time reaches the parent once reaped.
    await new Promise((r) => setTimeout(r, 50));
    const serverCpuSeconds = server.cpuSeconds() - cpuBefore;
    const got = await sha256File(local);
    if (got !== digest) throw new Error(`Cannot verify download: sha256 ${got.slice(0, 12)}… differs from the file's ${digest.slice(0, 12)}…`);
    process.stderr.write(`${label}: ${formatSeconds(seconds)} s, ${formatMiBps(setting.bytes, seconds)} MiB/s, server CPU ${serverCpuSeconds.toFixed(2)} s\n`);
    return { rep, seconds, serverCpuSeconds };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${label}: FAILED: ${error}\n`);
    return { rep, error };
  } finally {
    rmSync(local, { force: true });
  }
}

function renderReport(raw: Raw, note?: string): string {
  const { command, environment: env, results, minutes, plan } = raw;
  const lines = [
    '# TFTP benchmark: trowel vs dnsmasq vs tftpd-hpa',
    '',
    renderEnvironment(command, env),
    ...(note ? [note, ''] : []),
    `Took ${minutes} minutes. ${plan.reps} repetition(s) per server and setting; the tables show the median.`,
    'Ratios are speed ratios (the peer\'s seconds over trowel\'s): above 1.00× trowel is faster.',
    '',
    '## Setup',
    '',
    '- One client namespace and one namespace per server, each server on its own veth pair (MTU 1500):',
    '  server i at 10.81.i.1/24, the client\'s end 10.81.i.2/24. All servers listen on port 69 at once;',
    '  each setting is measured on every server back to back (the first server rotating per repetition),',
    '  so a burst of other work on this shared machine hits all servers alike.',
    `- Client for every server: atftp (\`atftp --get -r FILE -l OUT --option "blksize N" [--option "windowsize W"] SERVER\`),`,
    '  windowsize left out at 1 (plain lockstep). Every download is checked against the file\'s sha256 (outside the timing).',
    '  Each server start is followed by one untimed download (the lossy file, blksize 1468), as a long-running server is warm.',
    `- Lossless: one ${plan.bigBytes / MiB} MiB file of random bytes (page-cached after the first read, for every server).`,
    `- Lossy: ${plan.lossPercent}% of the UDP packets arriving in the client namespace dropped at random (nftables \`numgen random mod 100 < ${plan.lossPercent} drop\`,`,
    '  the lab\'s `dropIncoming`; this kernel has no netem). Each loss costs a retransmission timeout, so these runs use a',
    `  ${plan.lossyBytes / MiB} MiB file and ask every server for \`--option "timeout ${LOSSY_TIMEOUT}"\` (RFC 2349), with atftp's own`,
    `  \`--tftp-timeout ${LOSSY_TIMEOUT}\`. A server that ignores the timeout option keeps its own retransmission schedule.`,
    '  The drops column counts packets actually dropped per run (nft counters before and after the drop rule). With a few',
    '  dozen drops per run the counts differ by chance, so the table also gives each server\'s seconds per drop and a ratio',
    '  "at equal loss": lossless time for the bytes + (DATA packets x loss %) x that server\'s seconds per drop.',
    '- Servers:',
    ...TFTP_PEERS.map((p) => `  - ${p.name}: ${p.describe('ROOT')}`),
    '',
    '## Lossless',
    '',
    renderTftpTable(results, 0),
    '### Server CPU per DATA block (lossless, median; CPU time of the server and every process it forked, from its own cgroup)',
    '',
    renderCpuTable(results),
    `## ${plan.lossPercent}% random loss`,
    '',
    renderTftpTable(results, plan.lossPercent),
    '## Options each server acknowledged (OACK to a probe request with blksize, windowsize and timeout 1)',
    '',
    ...Object.entries(results.oack).flatMap(([server, byRequest]) =>
      Object.entries(byRequest).map(([req, oack]) => `- ${server}, asked blksize/windowsize ${req}: ${Object.entries(oack).map(([k, v]) => `${k} ${v}`).join(', ') || 'no OACK'}`)),
    '',
    '## Goal (issue 2: ≥ 1.0× dnsmasq at every setting)',
    '',
    'By the measured medians:',
    '',
    ...results.peers.map((p) => renderGoal(results, p)),
    '',
    'Lossy settings at equal loss (each server\'s lossless time plus the expected drops times its own seconds per drop):',
    '',
    ...results.peers.map((p) => renderGoal(results, p, equalLossRatioAt, results.settings.filter((s) => s.lossPercent > 0), ' at equal loss')),
    '',
    '## Every run (seconds)',
    '',
    renderAllRuns(results),
  ];
  return lines.join('\n');
}

await runBenchmark<Raw>({ script: 'bench/tftp.ts', command: args.command, render: args.render, renderReport, main });
