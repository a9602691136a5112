/**
 * Template streams (issue 3, "Benchmarks"), on the demo template (a real
 * debootstrapped Debian, appliance/demo-template):
 *
 * - Serving: trowel vs nginx sending the same cached stream file to 1, 10
 *   and 50 concurrent curl clients over loopback (aggregate MB/s).
 * - Per-client pipeline: `trowel template receive` over HTTP into a fresh
 *   btrfs vs `btrfs send | btrfs receive` of the same version.
 * - zstd vs gzip: sizes and rates on the template's send stream.
 * - Incremental: 1% of the files rewritten, the incremental stream's bytes
 *   over the changed bytes.
 *
 *   npx node bench/templates.ts [--quick] [--reps N] [--servers trowel,nginx]
 *
 * Writes bench/results/templates.md and templates.json (templates.quick.*
 * with --quick). Root only (loop devices, mounts, a network namespace).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildDemoTemplate, defaultCacheDir, DEFAULT_WORK_DIR, DEMO_TEMPLATE_NAME } from '../appliance/demo-template/build.ts';
import { snapshot } from '../src/sys/btrfs.ts';
import { run } from '../src/sys/run.ts';
import { parseBenchArgs } from './lib/args.ts';
import { onCleanup } from './lib/cleanup.ts';
import { runBenchmark } from './lib/entry.ts';
import { describeEnvironment, renderEnvironment, type Environment } from './lib/environment.ts';
import { sampleLoad } from './lib/load-sampler.ts';
import { bundleTrowel } from './lib/mcast-bundle.ts';
import { writeResults } from './lib/results.ts';
import type { ServerProcess } from './lib/server-process.ts';
import { MiB } from './lib/stats.ts';
import { listFiles, pickPercent, rewriteRandom } from './lib/templates-change.ts';
import { fetchesPerClient, runLoad } from './lib/templates-clients.ts';
import { codecsFor, measureCodec, type TrowelCompression } from './lib/templates-codecs.ts';
import { describeNginx, startNginx } from './lib/templates-nginx.ts';
import { describeNodeReference, startNodeReference } from './lib/templates-node-server.ts';
import { measurePipeline, PIPELINE_METHODS } from './lib/templates-pipeline.ts';
import {
  formatMB, renderAllRuns, renderCodecTable, renderGoals, renderIncrementalTable, renderPipelineTable, renderServeTable,
  type CodecResults, type IncrementalResult, type PipelineResults, type ServeResults, type ServeRun,
} from './lib/templates-report.ts';
import {
  ADDRESS, cacheFile, createTemplatesRig, freshBtrfs, manifest, NGINX_PORT, publish, startTrowelServe, streamPath, TEMPLATE_ARCH, type TemplatesRig,
} from './lib/templates-rig.ts';
import { trowelAt, trowelWorktree } from './lib/trowel.ts';

interface Plan {
  reps: number;
  clients: number[];
  /** Bytes one serving run moves at least (clients x downloads x stream). */
  serveBytes: number;
  /** Bytes of the send stream the codecs work on (undefined: all of it). */
  codecBytes: number | undefined;
  changePercent: number;
}

/** What a run writes to bench/results/templates.json, and all a report is rendered from. */
interface Raw {
  command: string;
  environment: Environment;
  plan: Plan;
  minutes: string;
  template: { name: string; version: string; treeBytes: number; publishSeconds: number; fullSendSeconds: number };
  serve: ServeResults;
  pipeline: PipelineResults;
  codecs: CodecResults;
  incremental?: IncrementalResult;
  /** Why the run ended before its plan did, if it did. */
  stopped?: string;
  /** A reading of the numbers, written by a person after looking at them (added to the JSON, then `--render`). */
  reading?: string[];
}

const FULL: Plan = { reps: 3, clients: [1, 10, 50], serveBytes: 4e9, codecBytes: undefined, changePercent: 1 };
const QUICK: Plan = { reps: 1, clients: [1, 10], serveBytes: 1e9, codecBytes: 128 * MiB, changePercent: 1 };
/** Which files change in the incremental update (the same ones on every run of the same template). */
const CHANGE_SEED = 3;
const POOL_MiB = 6144;
const RECEIVE_MiB = 3072;

const args = parseBenchArgs('bench/templates.ts', process.argv.slice(2));
const plan: Plan = { ...(args.quick ? QUICK : FULL), ...(args.reps ? { reps: args.reps } : {}) };
const SUBJECT = 'trowel';
const PEER = 'nginx';
/** The plainest Node server of the file: what Node itself reaches without sendfile (templates-node-server.ts). */
const REFERENCE = 'node';
const NODE_PORT = 8082;
const servers = [SUBJECT, PEER, REFERENCE].filter((s) => !args.servers || args.servers.includes(s));

const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('Cannot run the template benchmark: it needs root (loop devices, mounts, a network namespace)');
  const work = mkdtempSync(join(tmpdir(), 'trowel-bench-templates-'));
  onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const trowel = args.trowel === 'worktree' ? await trowelWorktree() : await trowelAt(args.trowel, work);
  const bundle = await bundleTrowel(trowel, work);
  const compression = (await import(join(dirname(dirname(trowel.cli)), 'stream', 'compress.ts'))) as TrowelCompression;
  const env = await describeEnvironment({
    nginx: ['nginx', ['-v']],
    'curl (clients)': ['curl', ['--version']],
    'btrfs-progs': ['btrfs', ['--version']],
    zstd: ['zstd', ['--version']],
    gzip: ['gzip', ['--version']],
  }, `${trowel.label}, bundled with esbuild`);
  const load = sampleLoad();
  const started = Date.now();

  log('building (or reusing) the demo template');
  const demo = await buildDemoTemplate({ workDir: DEFAULT_WORK_DIR, cacheDir: defaultCacheDir(), onProgress: log });
  const rig = await createTemplatesRig(bundle, POOL_MiB);
  const began = performance.now();
  const v1 = await publish(rig, DEMO_TEMPLATE_NAME, ['--from', demo.rootfs]);
  const publishSeconds = (performance.now() - began) / 1000;
  log(`published ${v1.name} ${v1.version} (${formatMB(v1.sizeBytes)}) in ${publishSeconds.toFixed(1)} s`);
  const trowelServer = await startTrowelServe(rig, bundle, work);
  const full = await manifest(rig, v1.name, v1.version);
  const streamBytes = full.signed.manifest.compressedSize;
  log(`full stream cached: ${formatMB(full.signed.manifest.uncompressedSize)} -> ${formatMB(streamBytes)} in ${full.seconds.toFixed(1)} s`);

  const serve: ServeResults = {
    streamBytes, subject: SUBJECT, peer: PEER, references: [REFERENCE], clients: plan.clients,
    fetchesPerClient: Object.fromEntries(plan.clients.map((n) => [String(n), fetchesPerClient(plan.serveBytes, n, streamBytes)])),
    runs: Object.fromEntries(plan.clients.map((n) => [String(n), Object.fromEntries([SUBJECT, PEER, REFERENCE].map((s) => [s, [] as ServeRun[]]))])),
  };
  const pipeline: PipelineResults = {
    uncompressedBytes: full.signed.manifest.uncompressedSize, compressedBytes: streamBytes, subject: 'trowel', peer: 'btrfs',
    methods: PIPELINE_METHODS, runs: Object.fromEntries(PIPELINE_METHODS.map((m) => [m.id, []])),
  };
  const codecs: CodecResults = { inputBytes: 0, codecs: [], runs: {} };
  const raw: Raw = {
    command: args.command, environment: env, plan, minutes: '0',
    template: { name: v1.name, version: v1.version, treeBytes: v1.sizeBytes, publishSeconds, fullSendSeconds: full.seconds },
    serve, pipeline, codecs,
  };

  // What was measured is written even when a part breaks; the report says where it stopped.
  try {
    const nginxDir = join(work, 'nginx');
    mkdirSync(nginxDir);
    const nginx = await startNginx(rig.ns, { dir: nginxDir, root: rig.cacheDir, address: ADDRESS, port: NGINX_PORT });
    const node = await startNodeReference(rig.ns, cacheFile(rig, full.signed), ADDRESS, NODE_PORT);
    const targets: Record<string, { server: ServerProcess; url: string }> = {
      [SUBJECT]: { server: trowelServer, url: `${rig.trowelUrl}${streamPath(v1.name, v1.version)}` },
      [PEER]: { server: nginx, url: `http://${ADDRESS}:${NGINX_PORT}/${full.signed.manifest.sha256}.zst` },
      [REFERENCE]: { server: node, url: `http://${ADDRESS}:${NODE_PORT}/stream` },
    };
    // One untimed download each: trowel's JIT and both page caches warm, and a check that both serve the stream.
    for (const s of servers) await measureServe(rig, targets[s]!.server, targets[s]!.url, 1, 1, streamBytes, 0, s);
    for (let rep = 1; rep <= plan.reps; rep++) {
      for (const n of plan.clients) {
        // The servers back to back, the first one rotating with the repetition.
        for (let k = 0; k < servers.length; k++) {
          const s = servers[(k + rep - 1) % servers.length]!;
          serve.runs[String(n)]![s]!.push(await measureServe(rig, targets[s]!.server, targets[s]!.url, n, serve.fetchesPerClient[String(n)]!, streamBytes, rep, s));
        }
      }
    }
    await nginx.stop();
    await node.stop();

    log('pipeline: warming btrfs send of the source');
    await run('sh', ['-c', 'btrfs send -q "$1" > /dev/null', 'warm', v1.path]);
    const inputs = { rig, name: v1.name, version: v1.version, source: v1.path, cacheFile: cacheFile(rig, full.signed), fsMiB: RECEIVE_MiB };
    for (let rep = 1; rep <= plan.reps; rep++) {
      for (let k = 0; k < PIPELINE_METHODS.length; k++) {
        const m = PIPELINE_METHODS[(k + rep - 1) % PIPELINE_METHODS.length]!;
        try {
          const r = await measurePipeline(m.id, inputs, rep);
          pipeline.runs[m.id]!.push(r);
          log(`[rep ${rep}/${plan.reps}] pipeline ${m.id}: ${r.seconds.toFixed(2)} s + sync ${r.syncSeconds.toFixed(2)} s = ` +
            `${(pipeline.uncompressedBytes / 1e6 / (r.seconds + r.syncSeconds)).toFixed(1)} MB/s`);
        } catch (e) {
          pipeline.runs[m.id]!.push({ rep, error: message(e) });
          log(`[rep ${rep}/${plan.reps}] pipeline ${m.id}: FAILED: ${message(e)}`);
        }
      }
    }

    await measureCodecs(rig, full.signed, work, compression, codecs);
    raw.incremental = await measureIncremental(rig, v1);
  } catch (e) {
    raw.stopped = `Stopped early: ${message(e)}`;
    log(raw.stopped);
  }
  await trowelServer.stop();

  env.loadDuringRun = load.stop();
  raw.minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const markdown = renderReport(raw);
  const written = writeResults('templates', args.quick, markdown, raw);
  process.stdout.write(markdown);
  log(`wrote ${written.markdown} and ${written.json} (${raw.minutes} min)`);
}

async function measureServe(rig: TemplatesRig, server: ServerProcess, url: string, clients: number, fetches: number, streamBytes: number, rep: number, name: string): Promise<ServeRun> {
  const label = rep ? `[rep ${rep}/${plan.reps}] serve ${name.padEnd(6)} ${String(clients).padStart(2)} client(s) x ${fetches}` : `warm-up ${name}`;
  try {
    const cpuBefore = server.cpuSeconds();
    const outcome = await runLoad(rig.ns, url, clients, fetches, streamBytes);
    const serverCpuSeconds = server.cpuSeconds() - cpuBefore;
    if (outcome.problems.length) throw new Error(`Cannot count the run: ${outcome.problems.length} download(s) wrong: ${outcome.problems.slice(0, 3).join('; ')}`);
    log(`${label}: ${outcome.downloads} downloads in ${outcome.seconds.toFixed(2)} s = ${(outcome.bytes / 1e6 / outcome.seconds).toFixed(0)} MB/s, server CPU ${serverCpuSeconds.toFixed(2)} s`);
    return { rep, downloads: outcome.downloads, bytes: outcome.bytes, seconds: outcome.seconds, serverCpuSeconds };
  } catch (e) {
    log(`${label}: FAILED: ${message(e)}`);
    if (rep === 0) throw e;
    return { rep, error: message(e) };
  }
}

/** The codecs on the send stream (the cache file decompressed: the very bytes `btrfs send` gave). */
async function measureCodecs(rig: TemplatesRig, signed: Parameters<typeof cacheFile>[1], work: string, compression: TrowelCompression, results: CodecResults): Promise<void> {
  const input = join(work, 'stream.btrfs');
  const limit = plan.codecBytes === undefined ? '' : ` | head -c ${plan.codecBytes}`;
  await run('bash', ['-o', 'pipefail', '-c', `zstd -q -dc "$1"${limit} > "$2"`, 'raw', cacheFile(rig, signed), input], { okCodes: plan.codecBytes === undefined ? [0] : [0, 141] });
  results.inputBytes = statSync(input).size;
  const zstdCli = await run('zstd', ['--version']).then(() => true, () => false);
  const impls = codecsFor(compression, zstdCli);
  results.codecs = impls.map(({ id, label }) => ({ id, label }));
  for (const c of impls) results.runs[c.id] = [];
  log(`codecs on ${formatMB(results.inputBytes)} of send stream`);
  for (let rep = 1; rep <= plan.reps; rep++) {
    for (const c of impls) {
      const output = join(work, `stream.${c.id}`);
      try {
        const r = await measureCodec(c, input, output, rep);
        results.runs[c.id]!.push(r);
        log(`[rep ${rep}/${plan.reps}] ${c.id}: ${formatMB(r.compressedBytes)}, compress ${r.compressSeconds.toFixed(2)} s, decompress ${r.decompressSeconds.toFixed(2)} s`);
      } catch (e) {
        results.runs[c.id]!.push({ rep, error: message(e) });
        log(`[rep ${rep}/${plan.reps}] ${c.id}: FAILED: ${message(e)}`);
      } finally {
        rmSync(output, { force: true });
      }
    }
  }
  rmSync(input, { force: true });
}

/** v2 = v1 with 1% of its files rewritten; the incremental stream v1 -> v2 against the changed bytes. */
async function measureIncremental(rig: TemplatesRig, v1: { name: string; version: string; path: string }): Promise<IncrementalResult> {
  const edit = join(rig.fs.mountpoint, 'edit');
  await snapshot(v1.path, edit);
  const files = await listFiles(edit);
  const chosen = pickPercent(files, plan.changePercent, CHANGE_SEED);
  const changedBytes = rewriteRandom(chosen);
  log(`incremental: rewrote ${chosen.length} of ${files.length} files, ${formatMB(changedBytes)}`);
  const v2 = await publish(rig, v1.name, ['--subvolume', edit]);
  const inc = await manifest(rig, v2.name, v2.version, v1.version);
  const m = inc.signed.manifest;
  const fetched = await rig.ns.exec('curl', ['-sS', '--fail', '-o', '/dev/null', '-w', '%{size_download}', `${rig.trowelUrl}${streamPath(v2.name, v2.version, v1.version)}`]);
  const result: IncrementalResult = {
    files: files.length, changedFiles: chosen.length, changedBytes,
    uncompressedBytes: m.uncompressedSize, compressedBytes: m.compressedSize, fetchedBytes: Number(fetched.stdout.trim()), sendSeconds: inc.seconds,
  };
  log(`incremental: ${formatMB(m.uncompressedSize)} uncompressed, ${formatMB(m.compressedSize)} sent, for ${formatMB(changedBytes)} changed`);
  // It must also apply: v1 then v2 into a fresh filesystem, both verified by the receiving CLI.
  const into = await freshBtrfs(RECEIVE_MiB, 'trowel-bench-rx-inc');
  try {
    const common = ['template', 'receive', '--server', rig.trowelUrl, '--name', v1.name, '--arch', TEMPLATE_ARCH, '--into', into.mountpoint, '--key', rig.keyFile];
    await rig.nsCli([...common, '--version', v1.version]);
    const began = performance.now();
    await rig.nsCli([...common, '--version', v2.version, '--parent', v1.version]);
    result.receiveSeconds = (performance.now() - began) / 1000;
  } catch (e) {
    result.error = `the incremental receive failed: ${message(e)}`;
  } finally {
    await into.dispose();
  }
  return result;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

function renderReport(raw: Raw, note?: string): string {
  const { command, environment: env, plan: p, minutes, template, serve, pipeline, codecs, incremental } = raw;
  const lines = [
    '# Template streams: trowel vs nginx, vs btrfs send | receive, zstd vs gzip, incremental',
    '',
    renderEnvironment(command, env),
    ...(note ? [note, ''] : []),
    ...(raw.stopped ? [`**${raw.stopped}** The tables hold what was measured before that.`, ''] : []),
    `Took ${minutes} minutes. ${p.reps} repetition(s) of each measurement; the tables show the median. MB = 10^6 bytes.`,
    'Ratios are trowel\'s rate over the peer\'s: above 1.00× trowel is faster.',
    '',
    '## The template',
    '',
    `The demo template (\`${template.name}\`, a debootstrapped Debian with a kernel, GRUB and systemd; appliance/demo-template),`,
    `${formatMB(template.treeBytes)} of files, published with \`trowel template publish --from\` into a pool on a fresh btrfs loop`,
    `device (${template.publishSeconds.toFixed(1)} s). Its full send stream: ${formatMB(pipeline.uncompressedBytes)}, ${formatMB(serve.streamBytes)} compressed;`,
    `the first request made it (\`btrfs send\` + zstd + sha-256 into the cache) in ${template.fullSendSeconds.toFixed(1)} s.`,
    '',
    '## Serving: trowel vs nginx, the same cache file, concurrent clients over loopback',
    '',
    '- The servers run at once in one network namespace (loopback only): `trowel serve` (HTTP only: `dhcp: { mode: off }`,',
    '  `tftp: { enabled: false }`) answering `GET /api/v1/templates/NAME/ARCH/VERSION/stream`, and',
    `  ${describeNginx()},`,
    '  answering `GET /<sha256>.zst`: the very file trowel sends.',
    `- For reference (no goal), a third server of the same file: ${describeNodeReference()}.`,
    '  Node has no sendfile(2): it copies each byte from the page cache into a buffer and from the buffer into the',
    '  socket, where nginx hands the socket the page-cache pages. This server is what Node alone reaches on the rig.',
    `- Clients: N \`curl -s -o /dev/null\` processes started together in the namespace, each downloading the stream`,
    `  the given number of times in a row (one connection), so that one run moves at least ${p.serveBytes / 1e9} GB; every download is`,
    '  checked for status 200 and the full length. Time: from just before the first curl starts to just after the last exits.',
    '  Aggregate MB/s = all bytes received / that time. One untimed download per server first (warm caches and JIT).',
    '- Server CPU per GB sent: trowel and the Node server from a cgroup of their own, nginx from /proc of its master and',
    '  workers (they fork before the master can be moved into a cgroup). Kernel work done in softirq context (much of',
    '  loopback TCP) is charged to no one. The clients share the same 2 CPUs with the servers.',
    '',
    renderServeTable(serve),
    '## Per-client pipeline: receive rate vs `btrfs send | btrfs receive`',
    '',
    '- Each method receives the template into a fresh btrfs on its own loop device, then `sync`; the rate is the',
    '  uncompressed send stream\'s bytes over the command plus the sync. The sources are page-cached (the cache file',
    '  by the serving runs, the subvolume by one untimed `btrfs send` first). Each received subvolume is checked to be',
    '  read-only with the source\'s UUID as its received UUID. CPU: user and system seconds of the command\'s processes',
    '  (bash `times`; trowel\'s includes the `btrfs receive` it runs, not the server\'s sending).',
    '',
    renderPipelineTable(pipeline),
    '## zstd vs gzip on the template\'s send stream',
    '',
    `- Input: ${formatMB(codecs.inputBytes)} of the full send stream (the cache file decompressed to a file). Each codec`,
    '  compresses that file to a file, then decompresses it to nothing (node: a counting sink; command line: `| wc -c`),',
    '  each on one core; rates are input (uncompressed) MB per second for both directions.',
    '',
    renderCodecTable(codecs),
    '## Incremental: an update that rewrites 1% of the files',
    '',
    `- v2 is a snapshot of v1 in which ${p.changePercent}% of the non-empty regular files (by count, one per inode, chosen by a`,
    `  seeded shuffle: seed ${CHANGE_SEED}) were overwritten in place with random bytes of the same size, published with`,
    '  `trowel template publish --subvolume` (its prepare hooks run again, as on every publish, in a chroot of v2: so',
    '  programs in bin/sbin directories and shared libraries are not candidates, random bytes would break the hooks).',
    '  The changed bytes are the chosen files\' sizes: every byte of each was rewritten. The incremental stream',
    '  is `GET .../v2/stream?parent=v1`; a client fetches it, and `trowel template receive --parent` applies it, verified,',
    '  onto a received v1 in a fresh filesystem.',
    '',
    incremental ? renderIncrementalTable(incremental) : 'Not measured.\n',
    ...(incremental?.error ? [`**${incremental.error}**`, ''] : []),
    '## Against issue 3\'s goals',
    '',
    ...renderGoals(serve, pipeline, incremental),
    '',
    ...(raw.reading ? ['## Reading', '', ...raw.reading, ''] : []),
    '## Every run',
    '',
    renderAllRuns(serve, pipeline, codecs),
  ];
  return lines.join('\n');
}

await runBenchmark<Raw>({ script: 'bench/templates.ts', command: args.command, render: args.render, renderReport, main });
