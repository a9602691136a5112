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
  { id: 'zstd-floor', label: '`zstd -dc <cache file> \\| btrfs receive -e` (the tools alone, from the same compressed file)' },
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

/** Measures one method once, into a filesystem made for it and removed after (unless `keep`). */
export async function measurePipeline(method: string, inputs: PipelineInputs, rep: number): Promise<PipelineMeasured> {
  const into = await freshBtrfs(inputs.fsMiB, `trowel-bench-rx-${method}`);
  try {
    await run('sync', []);
    const started = performance.now();
    await runMethod(method, inputs, into.mountpoint);
    const synced = performance.now();
    await run('sync', []);
    const ended = performance.now();
    await checkReceived(join(into.mountpoint, `@template:${inputs.name}:${TEMPLATE_ARCH}:${inputs.version}`), inputs.source);
    return { rep, seconds: (synced - started) / 1000, syncSeconds: (ended - synced) / 1000 };
  } finally {
    await into.dispose();
  }
}

/** The command a method runs (the part timed before the sync). */
async function runMethod(method: string, inputs: PipelineInputs, into: string): Promise<void> {
  const { rig } = inputs;
  switch (method) {
    case 'trowel':
      await rig.nsCli(['template', 'receive', '--server', rig.trowelUrl, '--name', inputs.name, '--arch', TEMPLATE_ARCH,
        '--version', inputs.version, '--into', into, '--key', rig.keyFile]);
      return;
    case 'btrfs':
      await run('bash', ['-o', 'pipefail', '-c', 'btrfs send -q "$1" | btrfs receive -e "$2"', 'pipe', inputs.source, into], { timeoutMs: 1_800_000 });
      return;
    case 'zstd-floor':
      await run('bash', ['-o', 'pipefail', '-c', 'zstd -q -dc "$1" | btrfs receive -e "$2"', 'pipe', inputs.cacheFile, into], { timeoutMs: 1_800_000 });
      return;
    default:
      throw new RangeError(`Cannot run pipeline method ${method}: unknown`);
  }
}

/** The received subvolume is finished (read-only) and is a copy of the source (its received UUID). */
async function checkReceived(path: string, source: string): Promise<void> {
  const [got, sent] = await Promise.all([showSubvolume(path), showSubvolume(source)]);
  if (!got.readonly || got.receivedUuid !== sent.uuid) {
    throw new Error(`Cannot verify ${path}: readonly ${got.readonly}, received UUID ${got.receivedUuid ?? 'none'} (the source is ${sent.uuid})`);
  }
}
