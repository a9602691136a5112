/**
 * How to run this same trowel again as a child process (the lab starts
 * `trowel serve` inside a namespace): the single executable runs itself;
 * from source or the ESM bundle, the running Node runs the entry file.
 */
import { isSea } from 'node:sea';
import { join } from 'node:path';

/** The CLI entry when running from source. */
export const SOURCE_CLI = join(import.meta.dirname ?? '.', '../cli/main.ts');

export function trowelCommand(): { command: string; args: string[] } {
  if (isSea()) return { command: process.execPath, args: [] };
  if (import.meta.url?.endsWith('.ts')) return { command: process.execPath, args: [SOURCE_CLI] };
  return { command: process.execPath, args: [process.argv[1]!] };
}
