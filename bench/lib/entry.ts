/**
 * The end of every side-by-side benchmark script: either rebuild the report
 * from a raw results file (`--render FILE`, no new measurement) or measure;
 * a failure is one line and exit status 1; the teardown (cleanup.ts) runs
 * however it ended.
 */
import { readFileSync } from 'node:fs';
import { cleanupAll } from './cleanup.ts';
import { renderedNote, rewriteMarkdown } from './results.ts';

export interface BenchmarkEntry<Raw> {
  /** The script, for its one-line error, e.g. `bench/dhcp.ts`. */
  script: string;
  /** How the report names the command that rebuilt it. */
  command: string;
  /** `--render FILE`, when given. */
  render?: string;
  renderReport(raw: Raw, note: string): string;
  main(): Promise<void>;
}

export async function runBenchmark<Raw>(entry: BenchmarkEntry<Raw>): Promise<void> {
  try {
    if (entry.render) {
      const raw = JSON.parse(readFileSync(entry.render, 'utf8')) as Raw;
      process.stderr.write(`wrote ${rewriteMarkdown(entry.render, entry.renderReport(raw, renderedNote(entry.command)))}\n`);
    } else {
      await entry.main();
    }
  } catch (e) {
    process.stderr.write(`${entry.script}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  } finally {
    await cleanupAll();
  }
}
