/**
 * The per-client pipeline: one version into a fresh btrfs loop filesystem
 * by each method, each followed by `sync` (what a receive leaves in the
 * page cache is written out and paid for), both timed.
 *
 * - trowel: `trowel template receive` (the measured CLI) from `trowel
 *   serve` on loopback: HTTP fetch, sha-256, zstd, `btrfs receive`, then
 *   the manifest's signature and digest checked before the subvolume is kept.
 * - btrfs: `btrfs send <snapshot> | btrfs receive <dir>` on this machine,
 *   no compression, no network, no verification: the goal's reference.
 * - zstd floor: `zstd -dc <cache file> | btrfs receive`, the tools alone
 *   on the same compressed bytes trowel fetches (no HTTP, no digest).
 */
import { join } from 'node:path';
import { showSubvolume } from '../../src/sys/btrfs.ts';
import { run } from '../../src/sys/run.ts';
import { freshBtrfs, TEMPLATE_ARCH, type TemplatesRig } from './templates-rig.ts';
import type { PipelineMeasured, PipelineMethod } from './templates-report.ts';

export const PIPELINE_METHODS: PipelineMethod[] = [
  { id: 'trowel', label: '`trowel template receive` over HTTP (fetch + sha-256 + zstd + btrfs receive, verified)' },
  { id: 'btrfs', label: '`btrfs send | btrfs receive` (no network, no compression)' },
  { id: 'zstd-floor', label: '`zstd -dc <cache file> | btrfs receive -e` (the tools alone, from the same compressed file)' },
];

export interface PipelineInputs {
  rig: TemplatesRig;
  name: string;
  version: string;
  /** The published version's subvolume (btrfs send's source). */
  source: string;
  /** The cached compressed stream (the zstd floor's input). */
  cacheFile: string;
  /** Size of the receiving filesystem. */
  fsMiB: number;
}

/** Measures one method once, into a filesystem made for it and removed after. */
export async function measurePipeline(method: string, inputs: PipelineInputs, rep: number): Promise<PipelineMeasured> {
  const into = await freshBtrfs(inputs.fsMiB, `trowel-bench-rx-${method}`);
  try {
    await run('sync', []);
    const started = performance.now();
    const output = await runMethod(method, inputs, into.mountpoint);
    const synced = performance.now();
    await run('sync', []);
    const ended = performance.now();
    await checkReceived(join(into.mountpoint, `@template:${inputs.name}:${TEMPLATE_ARCH}:${inputs.version}`), inputs.source);
    const cpu = parseChildTimes(output);
    return { rep, seconds: (synced - started) / 1000, syncSeconds: (ended - synced) / 1000, userSeconds: cpu.user, systemSeconds: cpu.system };
  } finally {
    await into.dispose();
  }
}

/**
 * The command a method runs (the part timed before the sync), under bash,
 * whose `times` then prints the CPU of every process it waited for (and
 * of those they waited for: btrfs receive under trowel). Returns that output.
 */
async function runMethod(method: string, inputs: PipelineInputs, into: string): Promise<string> {
  const { rig } = inputs;
  const timed = (script: string, ...args: string[]) => ['-o', 'pipefail', '-c', `${script} >/dev/null && times`, 'pipe', ...args];
  switch (method) {
    case 'trowel':
      return (await rig.ns.exec('bash', timed('"$@"', process.execPath, rig.bundle, 'template', 'receive', '--server', rig.trowelUrl, '--name', inputs.name,
        '--arch', TEMPLATE_ARCH, '--version', inputs.version, '--into', into, '--key', rig.keyFile), { timeoutMs: 1_800_000 })).stdout;
    case 'btrfs':
      return (await run('bash', timed('btrfs send -q "$1" | btrfs receive -e "$2"', inputs.source, into), { timeoutMs: 1_800_000 })).stdout;
    case 'zstd-floor':
      return (await run('bash', timed('zstd -q -dc "$1" | btrfs receive -e "$2"', inputs.cacheFile, into), { timeoutMs: 1_800_000 })).stdout;
    default:
      throw new RangeError(`Cannot run pipeline method ${method}: unknown`);
  }
}

/** The children's line of bash's `times` ("0m0.001s 0m0.002s" for the shell, then its children's user and system). */
export function parseChildTimes(output: string): { user: number; system: number } {
  const lines = output.trim().split('\n').filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l.trim()));
  const children = lines.at(-1);
  if (lines.length < 2 || children === undefined) throw new Error(`Cannot read the CPU times: no "times" output in ${JSON.stringify(output.slice(-200))}`);
  const seconds = (t: string) => {
    const [, m, s] = /^(\d+)m([\d.]+)s$/.exec(t)!;
    return Number(m) * 60 + Number(s);
  };
  const [user, system] = children.trim().split(' ');
  return { user: seconds(user!), system: seconds(system!) };
}

/** The received subvolume is finished (read-only) and is a copy of the source (its received UUID). */
async function checkReceived(path: string, source: string): Promise<void> {
  const [got, sent] = await Promise.all([showSubvolume(path), showSubvolume(source)]);
  if (!got.readonly || got.receivedUuid !== sent.uuid) {
    throw new Error(`Cannot verify ${path}: readonly ${got.readonly}, received UUID ${got.receivedUuid ?? 'none'} (the source is ${sent.uuid})`);
  }
}
