/**
 * The command line shared by the benchmarks: `--quick` for a short smoke
 * run of the whole rig, `--reps N` to override the repetition count,
 * `--servers a,b` to run only some servers while debugging the rig,
 * `--trowel REV` to measure another commit, `--trowel-worktree` to measure
 * uncommitted changes, `--render FILE.json` to rebuild a report from its raw
 * results without measuring again, `--points a,b` to measure only some
 * points of a benchmark that has them (written apart from its full results).
 */
import { parseArgs } from 'node:util';

export interface BenchArgs {
  quick: boolean;
  reps: number | undefined;
  /** Only these servers (for debugging the rig; ratios need trowel and a peer). */
  servers: string[] | undefined;
  /** The commit whose trowel is measured (default HEAD), or 'worktree' for uncommitted changes. */
  trowel: string;
  /** Only these points (ids such as m1500-r6-l5), for a focused look; undefined: all. */
  points: string[] | undefined;
  /** Re-render the Markdown report from this raw results file instead of measuring. */
  render: string | undefined;
  /** The command as typed, for the results header. */
  command: string;
}

/** A bad command line: one line on stderr, exit 2 (no stack: nothing broke). */
export function exitWithUsage(script: string, message: string): never {
  process.stderr.write(`${script}: ${message}\n`);
  process.exit(2);
}

export function parseBenchArgs(script: string, argv: readonly string[], options: { points?: boolean } = {}): BenchArgs {
  try {
    return parseOrThrow(script, argv, options);
  } catch (e) {
    return exitWithUsage(script, e instanceof Error ? e.message : String(e));
  }
}

function parseOrThrow(script: string, argv: readonly string[], options: { points?: boolean }): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      servers: { type: 'string' },
      trowel: { type: 'string', default: 'HEAD' },
      'trowel-worktree': { type: 'boolean', default: false },
      render: { type: 'string' },
      points: { type: 'string' },
    },
    strict: true,
  });
  if (values.points !== undefined && !options.points) throw new RangeError(`Cannot use --points: ${script} measures no named points`);
  let reps: number | undefined;
  if (values.reps !== undefined) {
    reps = Number(values.reps);
    if (!Number.isInteger(reps) || reps < 1) throw new RangeError(`Cannot run ${reps} repetitions: give a whole number >= 1`);
  }
  return {
    quick: values.quick,
    reps,
    servers: values.servers?.split(',').map((s) => s.trim()),
    trowel: values['trowel-worktree'] ? 'worktree' : values.trowel,
    points: values.points?.split(',').map((s) => s.trim()),
    render: values.render,
    command: ['npx', 'node', script, ...argv].join(' '),
  };
}
