/**
 * Runs `trowel serve` from source (on the Node that runs the benchmark,
 * Node 24) in the server namespace with a config written for one
 * measurement, and waits for its `serve.ready` record. Logging stays at
 * the default level, as an operator would run it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../../src/lab/netns.ts';
import { startServer, type ServerProcess } from './server-process.ts';

export const TROWEL_CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

/** Writes `yaml` as trowel.yaml in `dir` and starts `trowel serve` with it. */
export async function startTrowel(ns: Netns, dir: string, yaml: string): Promise<ServerProcess> {
  const config = join(dir, 'trowel.yaml');
  writeFileSync(config, yaml);
  const env = { ...process.env };
  delete env.TROWEL_LOG;
  return startServer(ns, 'trowel', process.execPath, [TROWEL_CLI, 'serve', '--config', config], {
    env,
    readyLine: /"event":"serve\.ready"/,
    keepLines: /"level":"(warn|error)"/,
    timeoutMs: 30_000,
  });
}
