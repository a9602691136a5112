/**
 * Writes a benchmark's report beside its raw numbers: `<name>.md` for
 * people and `<name>.json` for anyone who wants to recompute. Quick runs
 * go to `<name>.quick.*` so they never overwrite a full run's results.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RESULTS_DIR = join(import.meta.dirname, '..', 'results');

export function writeResults(name: string, quick: boolean, markdown: string, raw: unknown): { markdown: string; json: string } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const base = join(RESULTS_DIR, quick ? `${name}.quick` : name);
  writeFileSync(`${base}.md`, markdown);
  writeFileSync(`${base}.json`, JSON.stringify(raw, null, 2) + '\n');
  return { markdown: `${base}.md`, json: `${base}.json` };
}

/** Writes the Markdown beside a raw results file (`x.json` → `x.md`), for `--render`. */
export function rewriteMarkdown(jsonPath: string, markdown: string): string {
  const md = jsonPath.replace(/\.json$/, '') + '.md';
  writeFileSync(md, markdown);
  return md;
}

/** The line a re-rendered report carries under its command. */
export function renderedNote(command: string): string {
  return `Report rebuilt from the raw results (no new measurement) by \`${command}\`.`;
}
