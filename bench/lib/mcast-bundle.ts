/**
 * The trowel the multicast benchmark runs: an esbuild bundle of the measured
 * source, as `npm run build` makes dist/trowel.mjs. Every run starts fresh
 * trowel processes, and from source Node spends ~0.6 s of CPU compiling the
 * CLI's TypeScript at each start (~0.15 s for the bundle): inside the timed
 * sender and the receivers' CPU that would be start-up, not multicast.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import type { TrowelBuild } from './trowel.ts';

/** Bundles `trowel.cli` (an extracted commit's or the working tree's src/cli/main.ts) into `outDir`; returns the bundle's path. */
export async function bundleTrowel(trowel: TrowelBuild, outDir: string): Promise<string> {
  const outfile = join(outDir, 'trowel-bench.mjs');
  await build({
    entryPoints: [trowel.cli],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    outfile,
    legalComments: 'none',
    // Optional requires of blessed's terminal widget, which trowel never uses (not installed).
    external: ['term.js', 'pty.js'],
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require() for builtins (as appliance/build-binary.ts does).
    banner: { js: "import { createRequire as __trowelCreateRequire } from 'node:module';\nconst require = __trowelCreateRequire(import.meta.url);" },
  });
  return outfile;
}
