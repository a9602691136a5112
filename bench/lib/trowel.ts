/**
 * Runs `trowel serve` in the server namespace with a config written for one
 * measurement, and waits for its `serve.ready` record. Logging stays at the
 * default level, as an operator would run it.
 *
 * By default the server runs from a `git archive` of one commit (HEAD) in the
 * work directory, not from the working tree: other work in progress can't
 * break or change a run halfway, and the results name exactly what was
 * measured. `--trowel-worktree` measures uncommitted changes instead.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../../src/lab/netns.ts';
import { run } from '../../src/sys/run.ts';
import { startServer, type ServerProcess } from './server-process.ts';

const REPO = join(import.meta.dirname, '..', '..');

export interface TrowelBuild {
  /** Path of src/cli/main.ts to run. */
  cli: string;
  /** What was measured, for the results header. */
  label: string;
}

/** Extracts `rev`'s src/, tui/ and package.json into `workDir` (node_modules linked from the repository). */
export async function trowelAt(rev: string, workDir: string): Promise<TrowelBuild> {
  const commit = (await run('git', ['-C', REPO, 'rev-parse', '--short', `${rev}^{commit}`])).stdout.trim();
  const dest = join(workDir, `trowel-${commit}`);
  mkdirSync(dest, { recursive: true });
  const tar = join(workDir, `trowel-${commit}.tar`);
  // src/cli imports the full-screen programs from tui/ (where the commit has it).
  const tui = (await run('git', ['-C', REPO, 'ls-tree', '--name-only', commit, 'tui'])).stdout.trim() ? ['tui'] : [];
  await run('git', ['-C', REPO, 'archive', '--format=tar', '-o', tar, commit, 'src', ...tui, 'package.json']);
  await run('tar', ['-xf', tar, '-C', dest]);
  symlinkSync(join(REPO, 'node_modules'), join(dest, 'node_modules'));
  return { cli: join(dest, 'src', 'cli', 'main.ts'), label: `commit ${commit} (git archive of ${rev})` };
}

/** The working tree as it is, uncommitted changes included. */
export async function trowelWorktree(): Promise<TrowelBuild> {
  const head = (await run('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])).stdout.trim();
  const dirty = (await run('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no', '--', 'src'])).stdout.trim();
  return { cli: join(REPO, 'src', 'cli', 'main.ts'), label: `working tree at ${head}${dirty ? ' with uncommitted changes in src/' : ''}` };
}

/** Writes `yaml` as trowel.yaml in `dir` and starts `trowel serve` with it. */
export async function startTrowel(ns: Netns, build: TrowelBuild, dir: string, yaml: string): Promise<ServerProcess> {
  const config = join(dir, 'trowel.yaml');
  writeFileSync(config, yaml);
  const env = { ...process.env };
  delete env.TROWEL_LOG;
  return startServer(ns, 'trowel', process.execPath, [build.cli, 'serve', '--config', config], {
    env,
    readyLine: /"event":"serve\.ready"/,
    keepLines: /"level":"(warn|error)"/,
    timeoutMs: 30_000,
  });
}
