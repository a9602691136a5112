/**
 * Reliable multicast of one file to many receivers: trowel vs udpcast vs uftp
 * (issue 6, "Benchmarks"), on a bridge of namespaces with the sender shaped
 * to 1 Gbit/s, at 1, 3 and 6 receivers, with 0%, 1% and 5% random loss on
 * one receiver, at MTU 1500 and 9000.
 *
 *   npx node bench/mcast.ts [--quick] [--reps N] [--servers trowel,udpcast]
 *
 * Writes bench/results/mcast.md and mcast.json (mcast.quick.* with --quick).
 * Each point is measured on every tool back to back, the first tool rotating
 * per repetition, so a slow patch of this shared machine hits them alike.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitWithUsage, parseBenchArgs } from './lib/args.ts';
import { onCleanup } from './lib/cleanup.ts';
import { describeEnvironment, renderEnvironment, type Environment } from './lib/environment.ts';
import { sha256File, writeRandomFile } from './lib/files.ts';
import { sampleLoad } from './lib/load-sampler.ts';
import { disableLoss, enableLoss, takeLossCounts } from './lib/loss.ts';
import { bundleTrowel } from './lib/mcast-bundle.ts';
import { parseTrowelReceiver, parseTrowelSender, parseUdpSender, parseUftpSender } from './lib/mcast-parse.ts';
import { lastLines, type McastProcess } from './lib/mcast-process.ts';
import {
  pointId, renderAllRuns, renderCpuTable, renderFlatnessTable, renderGoals, renderGoodputTable, type McastPoint, type McastResults, type McastRun,
} from './lib/mcast-report.ts';
import { createMcastRig, type McastRig } from './lib/mcast-rig.ts';
import { MCAST_TOOLS, type McastTool, type StartedReceiver } from './lib/mcast-tools.ts';
import { writeResults } from './lib/results.ts';
import { runBenchmark } from './lib/entry.ts';
import { MiB } from './lib/stats.ts';
import { trowelAt, trowelWorktree } from './lib/trowel.ts';

interface Plan {
  bytes: number;
  reps: number;
  receivers: number[];
  losses: number[];
  mtus: number[];
}

/** What a run writes to bench/results/mcast.json, and all a report is rendered from. */
interface Raw {
  command: string;
  environment: Environment;
  plan: Plan;
  minutes: string;
  /** The command lines of each tool at each MTU. */
  tools: Record<string, Record<string, string[]>>;
  results: McastResults;
  /** Why the run ended before its plan did, if it did. */
  stopped?: string;
  /** A reading of the numbers, written by a person after looking at them (added to the JSON, then `--render`). */
  reading?: string[];
}

const FULL: Plan = { bytes: 256 * MiB, reps: 2, receivers: [1, 3, 6], losses: [0, 1, 5], mtus: [1500, 9000] };
const QUICK: Plan = { bytes: 64 * MiB, reps: 1, receivers: [1, 3], losses: [0, 5], mtus: [1500] };
const SHAPE_RATE = '1gbit';
/** A sender still running after this is stopped and its run counted as failed. */
const SENDER_LIMIT_MS = 180_000;


const args = parseBenchArgs('bench/mcast.ts', process.argv.slice(2), { points: true });
const plan: Plan = narrowToPoints({ ...(args.quick ? QUICK : FULL), ...(args.reps ? { reps: args.reps } : {}) }, args.points);
const tools = MCAST_TOOLS.filter((t) => !args.servers || args.servers.includes(t.name));

/**
 * `--points m1500-r6-l5,...`: the plan shrinks to the MTUs, receiver counts
 * and losses those points name (all their combinations), for a focused look
 * that is written apart from the full results.
 */
function narrowToPoints(p: Plan, ids: string[] | undefined): Plan {
  if (!ids) return p;
  const known = p.mtus.flatMap((mtu) => pointsFor(p, mtu));
  const chosen = ids.map((id) => {
    const point = known.find((k) => k.id === id);
    if (!point) exitWithUsage('bench/mcast.ts', `Cannot measure point "${id}": the plan's points are ${known.map((k) => k.id).join(', ')}`);
    return point;
  });
  const only = <T>(values: T[], pick: (q: McastPoint) => T) => values.filter((v) => chosen.some((q) => pick(q) === v));
  return { ...p, mtus: only(p.mtus, (q) => q.mtu), receivers: only(p.receivers, (q) => q.receivers), losses: only(p.losses, (q) => q.lossPercent) };
}

function pointsFor(p: Plan, mtu: number): McastPoint[] {
  return p.losses.flatMap((lossPercent) => p.receivers.map((receivers) => ({ id: pointId({ mtu, receivers, lossPercent }), mtu, receivers, lossPercent })));
}

async function main(): Promise<void> {
  // Files live in tmpfs where there is one: six receivers write 6 x 256 MiB per run, and a disk's
  // writeback would land on whichever tool runs next.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const work = mkdtempSync(join(base, 'trowel-bench-mcast-'));
  onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const trowel = args.trowel === 'worktree' ? await trowelWorktree() : await trowelAt(args.trowel, work);
  const trowelCli = await bundleTrowel(trowel, work);
  const env = await describeEnvironment({
    udpcast: ['dpkg-query', ['-W', '-f', '${Package} ${Version}\n', 'udpcast']],
    uftp: ['dpkg-query', ['-W', '-f', '${Package} ${Version}\n', 'uftp']],
  }, `${trowel.label}, bundled with esbuild`);
  const file = join(work, 'payload.bin');
  const digest = writeRandomFile(file, plan.bytes);

  const points = plan.mtus.flatMap((mtu) => pointsFor(plan, mtu));
  const results: McastResults = {
    bytes: plan.bytes,
    subject: MCAST_TOOLS[0]!.name,
    peers: MCAST_TOOLS.slice(1).map((t) => t.name),
    points,
    runs: Object.fromEntries(points.map((p) => [p.id, Object.fromEntries(MCAST_TOOLS.map((t) => [t.name, [] as McastRun[]]))])),
  };
  const described = Object.fromEntries(MCAST_TOOLS.map((t) => [t.name, Object.fromEntries(plan.mtus.map((m) => [String(m), t.describe(m)]))]));
  const load = sampleLoad();
  const started = Date.now();

  // What was measured is written even when the rig breaks halfway (on this machine another job's lab
  // clean-up once removed every trw* namespace mid-run); the report says where it stopped.
  let stopped: string | undefined;
  try {
    for (const [i, mtu] of plan.mtus.entries()) {
      const rig = await createMcastRig({ net: 86 + i, receivers: Math.max(...plan.receivers), mtu, shapeRate: SHAPE_RATE });
      try {
        for (let rep = 1; rep <= plan.reps; rep++) {
          for (const point of pointsFor(plan, mtu)) {
            for (let k = 0; k < tools.length; k++) {
              const tool = tools[(k + rep - 1) % tools.length]!;
              const run = await measure(rig, tool, point, rep, work, file, digest, trowelCli);
              results.runs[point.id]![tool.name]!.push(run);
            }
          }
        }
      } finally {
        await rig.destroy();
      }
    }
  } catch (e) {
    stopped = `Stopped early: ${e instanceof Error ? e.message : String(e)}`;
    process.stderr.write(`${stopped}\n`);
  }

  env.loadDuringRun = load.stop();
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const raw: Raw = { command: args.command, environment: env, plan, minutes, tools: described, results, ...(stopped ? { stopped } : {}) };
  const markdown = renderReport(raw);
  const written = writeResults(args.points ? 'mcast.points' : 'mcast', args.quick, markdown, raw);
  process.stdout.write(markdown);
  process.stderr.write(`\nwrote ${written.markdown} and ${written.json} (${minutes} min)\n`);
}

async function measure(rig: McastRig, tool: McastTool, point: McastPoint, rep: number, work: string, file: string, digest: string, trowelCli: string): Promise<McastRun> {
  const label = `[rep ${rep}/${plan.reps}] MTU ${point.mtu} ${tool.name.padEnd(7)} ${point.receivers} rx, ${point.lossPercent}% loss on one`;
  const began = Date.now();
  const phase: string[] = [];
  const mark = (what: string) => phase.push(`${what} ${((Date.now() - began) / 1000).toFixed(1)}`);
  const dir = join(work, 'run');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const ctx = { rig, file, receivers: point.receivers, dir, trowelCli };
  const lossy = rig.receivers[0]!.ns;
  const receivers: { started: StartedReceiver; cpuAtReady: number }[] = [];
  let sender: McastProcess | undefined;
  try {
    await rig.useReceivers(point.receivers);
    if (point.lossPercent > 0) {
      await enableLoss(lossy, point.lossPercent);
      await takeLossCounts(lossy);
    }
    for (let i = 0; i < point.receivers; i++) {
      const started = await tool.startReceiver(ctx, rig.receivers[i]!, i);
      receivers.push({ started, cpuAtReady: started.proc.cpuSeconds() });
    }
    mark('receivers ready');
    sender = tool.startSender(ctx);
    const senderDone = sender;
    let senderExited = false;
    void sender.exited.then(() => (senderExited = true));
    const pending = new Set(receivers.map((r) => r.started.proc));
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const waiting = [...(senderExited ? [] : [senderDone]), ...pending];
        reject(new Error(`Cannot finish the run: ${waiting.map((p) => p.name).join(', ')} not done after ${SENDER_LIMIT_MS / 1000} s: ${waiting.map((p) => `${p.name}: ${lastLines(p.output(), 2)}`).join(' / ')}`));
      }, SENDER_LIMIT_MS);
    });
    // Both must end well: the sender's exit and every receiver's own "I have it". A receiver that
    // fails rejects at once, so a broken run ends now rather than at the limit.
    const [exit, finishedAt] = await Promise.race([
      Promise.all([sender.exited, Promise.all(receivers.map((r) => r.started.finished(SENDER_LIMIT_MS).then((at) => {
        pending.delete(r.started.proc);
        return at;
      })))]),
      limit,
      sender.exited.then((e) => {
        if (e.code !== 0) throw new Error(`Cannot finish ${senderDone.name}: exit ${e.code ?? e.signal}: ${lastLines(senderDone.output())}`);
        return new Promise<never>(() => {});
      }),
    ]).finally(() => clearTimeout(timer));
    // Done is the first moment the tool itself vouches that every receiver has the whole file: the last
    // receiver's own "done", or the sender's successful exit, which each of the three senders makes only
    // after every receiver confirmed the file (trowel's DONE, udpcast's final ACK, uftp's COMPLETE).
    const lastDone = Math.max(...finishedAt);
    const seconds = (Math.min(lastDone, exit.at) - sender.startedAt) / 1000;
    const senderCpuSeconds = sender.cpuSeconds();
    const receiverCpuSeconds = receivers.map((r) => r.started.proc.cpuSeconds() - r.cpuAtReady);
    const run: McastRun = { rep, seconds, senderCpuSeconds, receiverCpuSeconds, senderAfterSeconds: (exit.at - lastDone) / 1000 };
    if (point.lossPercent > 0) {
      const counts = await takeLossCounts(lossy);
      run.lossyArrived = counts.arrived;
      run.lossyDropped = counts.dropped;
    }
    run.notes = toolNotes(tool, sender, receivers.map((r) => r.started));
    mark('finished');
    for (const r of receivers) await r.started.proc.stop();
    // Outside the timing: every receiver must hold the very file that was sent.
    for (const [i, r] of receivers.entries()) {
      const got = await sha256File(r.started.output).catch((e: Error) => `unreadable (${e.message})`);
      if (got !== digest) throw new Error(`Cannot verify receiver ${i}: sha256 ${got.slice(0, 16)}… differs from the file's ${digest.slice(0, 12)}…`);
    }
    process.stderr.write(`${label}: ${seconds.toFixed(2)} s, ${(plan.bytes / seconds / 1e6).toFixed(1)} MB/s, sender CPU ${senderCpuSeconds.toFixed(2)} s, ` +
      `receivers CPU ${receiverCpuSeconds.map((c) => c.toFixed(2)).join(' ')} s, sender exit +${run.senderAfterSeconds!.toFixed(2)} s${run.notes ? `; ${run.notes}` : ''}` +
      ` (at s: ${phase.join(', ')}, verified ${((Date.now() - began) / 1000).toFixed(1)})\n`);
    return run;
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${label}: FAILED: ${error}\n`);
    return { rep, error };
  } finally {
    await sender?.stop();
    for (const r of receivers) await r.started.proc.stop();
    if (point.lossPercent > 0) await disableLoss(lossy).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The tool's own account of the run, for the all-runs table. */
function toolNotes(tool: McastTool, sender: McastProcess, receivers: StartedReceiver[]): string {
  const out = sender.output();
  if (tool.name === 'trowel') {
    const s = parseTrowelSender(out);
    const rx = receivers.map((r) => parseTrowelReceiver(r.proc.output()));
    const repaired = rx.reduce((sum, r) => sum + (r?.repaired ?? 0), 0);
    const duplicates = rx.reduce((sum, r) => sum + (r?.duplicates ?? 0), 0);
    return s
      ? `block ${s.blockSize}, data ${s.dataSeconds.toFixed(2)} s, repairs ${s.repairs}, packets ${s.packets}, worst loss ${s.lossPercent}%, blocks rebuilt ${repaired}, duplicates ${duplicates}, dropped ${s.dropped}`
      : 'no summary line';
  }
  if (tool.name === 'udpcast') {
    const s = parseUdpSender(out);
    return s ? `re-xmits ${s.retransmits}` : 'no progress line';
  }
  const s = parseUftpSender(out);
  return s ? `own elapsed ${s.elapsedSeconds.toFixed(2)} s, passes ${s.passes}, completed ${s.completed}, failed ${s.failed}` : 'no transfer status';
}

function renderReport(raw: Raw, note?: string): string {
  const { command, environment: env, plan: p, minutes, results } = raw;
  const lines = [
    '# Multicast benchmark: trowel vs udpcast vs uftp',
    '',
    renderEnvironment(command, env),
    ...(note ? [note, ''] : []),
    ...(raw.stopped ? [`**${raw.stopped}** The tables hold the runs made before that.`, ''] : []),
    `Took ${minutes} minutes. ${p.reps} repetition(s) per tool and point; the tables show the median.`,
    'Ratios are speed ratios: trowel\'s goodput over the peer\'s (the peer\'s seconds over trowel\'s); above 1.00× trowel is faster.',
    '',
    '## Setup',
    '',
    `- One ${p.bytes / MiB} MiB file of random bytes, sent from a sender namespace to ${p.receivers.join(', ')} receiver namespaces, all on one`,
    '  Linux bridge (a "switch" namespace, IGMP snooping off) by veth pairs; the sender\'s egress shaped by',
    `  \`tc qdisc add dev eth0 root tbf rate ${SHAPE_RATE} burst 64KiB latency 20ms\`. Receivers a run doesn't use have their bridge port down.`,
    '  Files (the sent one and every received copy) on tmpfs, so no disk\'s writeback lands on the next run.',
    '- Every tool capped at the same 900 Mbit/s, unattended, unencrypted:',
    ...Object.entries(raw.tools).flatMap(([tool, byMtu]) => Object.entries(byMtu).map(([mtu, cmds]) => `  - ${tool} (MTU ${mtu}): ${cmds.join('; ')}`)),
    '- Time: from the sender\'s start (every receiver already listening) to the first moment the tool itself vouches that',
    '  every receiver has the whole file: the last receiver\'s own "done" (trowel\'s receive-file summary line, uftpd\'s',
    '  RESULT line in its status file, polled every 20 ms; udp-receiver prints its "Transfer complete." only as it exits,',
    '  after a 500 ms linger) or the sender\'s exit, which each sender makes only after every receiver confirmed the file',
    '  (trowel\'s DONE, udpcast\'s final ACK, uftp\'s COMPLETE), whichever comes first. The run also needs the sender and',
    '  every receiver to exit 0 (uftpd stays: a daemon). "sender exit after" in the last table is the sender\'s exit minus',
    '  the last receiver\'s "done" (negative: the sender was first). Goodput = file bytes / time, in MB/s (10^6 bytes/s).',
    '  Every received copy is checked against the file\'s sha-256 outside the timing; a wrong or missing copy fails the run.',
    '- Loss: N% of the packets arriving in the first receiver\'s namespace dropped at random (nftables',
    '  `numgen random mod 100 < N drop`, the lab\'s `dropIncoming`; this kernel has no netem), in prerouting before the kernel',
    '  reassembles IP fragments: each fragment is dropped on its own, so a datagram of F fragments is lost with',
    '  probability 1-(1-N%)^F, as on a real wire (trowel\'s 6-fragment datagrams at MTU 1500: 26% at 5%); the others lose nothing',
    '  on purpose (they may still drop what they cannot keep up with: the machine has 2 cores for all of them).',
    '- CPU: each process in a cgroup of its own (cpuacct), sender from start to exit, each receiver from ready to',
    '  finished. Softirq work of the veths and the bridge is charged to whichever process the kernel was running,',
    '  mostly the sender: compare tools, not absolute values.',
    `- trowel runs as an esbuild bundle of the measured commit (as \`dist/trowel.mjs\`), started fresh for every run: its`,
    '  sender\'s time includes Node\'s start (~0.2-0.5 s here), which udp-sender and uftp don\'t pay.',
    '',
  ];
  for (const mtu of p.mtus) {
    lines.push(
      `## MTU ${mtu}`,
      '',
      '### Goodput (median seconds and MB/s per tool)',
      '',
      renderGoodputTable(results, mtu),
      '### Flatness: time with the most receivers over time with one',
      '',
      renderFlatnessTable(results, mtu),
      '### CPU seconds per GiB: the sender\'s, and per receiver (median)',
      '',
      renderCpuTable(results, mtu),
    );
  }
  lines.push(
    '## Against issue 6\'s goals',
    '',
    ...renderGoals(results, p.mtus),
    '',
    ...(raw.reading ? ['## Reading', '', ...raw.reading, ''] : []),
    '## Every run',
    '',
    renderAllRuns(results),
  );
  return lines.join('\n');
}

await runBenchmark<Raw>({ script: 'bench/mcast.ts', command: args.command, render: args.render, renderReport, main });
