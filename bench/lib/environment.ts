/**
 * What a result was measured on: date, machine, kernel, the trowel commit
 * and the peers' versions. Printed at the top of every results file so a
 * number can always be traced back to what made it.
 */
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { run } from '../../src/sys/run.ts';
import { VERSION } from '../../src/version.ts';
import type { LoadSummary } from './load-sampler.ts';

export interface Environment {
  date: string;
  nproc: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  trowel: string;
  /** Which trowel was measured (a commit, or the working tree). */
  trowelSource: string;
  /** 1-minute load average when the run started: other work on a shared machine skews timings. */
  loadAverage1m: number;
  /** The 1-minute load average sampled during the run (filled in at the end). */
  loadDuringRun?: LoadSummary;
  peers: Record<string, string>;
}

/** First line of a command's output (stdout or stderr), or "not installed". */
async function versionLine(command: string, args: string[], pattern?: RegExp): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { okCodes: [0, 1, 64] });
    const text = `${stdout}\n${stderr}`;
    const line = text.split('\n').find((l) => (pattern ? pattern.test(l) : l.trim().length > 0)) ?? '';
    return line.trim();
  } catch {
    return 'not installed';
  }
}

export async function describeEnvironment(peers: Record<string, [string, string[], RegExp?]>, trowelSource: string): Promise<Environment> {
  const versions: Record<string, string> = {};
  for (const [name, [command, args, pattern]] of Object.entries(peers)) versions[name] = await versionLine(command, args, pattern);
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    trowel: VERSION,
    trowelSource,
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    peers: versions,
  };
}

/** The header block of a results file. */
export function renderEnvironment(command: string, env: Environment): string {
  const peerLines = Object.entries(env.peers).map(([name, v]) => `- ${name}: ${v}`);
  return [
    `Command: \`${command}\``,
    '',
    `- date: ${env.date}`,
    `- machine: ${env.nproc} CPUs (${env.cpu}), ${env.memoryGiB} GiB RAM, kernel ${env.kernel}`,
    `- load average (1 min) at start: ${env.loadAverage1m}` +
      (env.loadDuringRun ? `; during the run min ${env.loadDuringRun.min}, mean ${env.loadDuringRun.mean}, max ${env.loadDuringRun.max} (${env.loadDuringRun.samples} samples)` : ''),
    `- trowel ${env.trowel}, ${env.trowelSource}, on Node ${env.node}`,
    ...peerLines,
    '',
  ].join('\n');
}
