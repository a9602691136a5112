/**
 * `npm run build`: bundles the CLI with esbuild and injects the bundle into
 * the pinned Node 24 binary as a single executable application (SEA).
 *
 *   dist/trowel.mjs  ESM bundle, runs on any Node 24 (`node dist/trowel.mjs`)
 *   dist/trowel.cjs  CommonJS bundle, the SEA's main script (SEA runs CommonJS)
 *   dist/trowel      the single executable: no Node, no node_modules needed
 *
 * blessed (the console and the dashboard) needs help to live in a bundle:
 * static widget requires and embedded terminal descriptions, see
 * blessed-bundle.ts and terminfo.ts.
 *
 * Why not `pkg`: it is deprecated and downloads prebuilt base binaries at
 * build time, which fails on an offline build host. SEA reuses the Node
 * binary npm already installed (devDependency `node@24`).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { blessedBundlePlugin } from './blessed-bundle.ts';
import { readHostTerminfo } from './terminfo.ts';

const dist = 'dist';
const entry = 'src/cli/main.ts';
// The fuse name is fixed by Node's SEA format.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

async function main(): Promise<void> {
  mkdirSync(dist, { recursive: true });
  const common: BuildOptions = {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node24',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [blessedBundlePlugin(readHostTerminfo())],
    // Only blessed's Terminal widget loads these, and trowel makes none.
    external: ['term.js', 'pty.js'],
  };

  await build({
    ...common,
    format: 'esm',
    outfile: join(dist, 'trowel.mjs'),
    // Bundled CommonJS dependencies (ws, undici) call require() for builtins.
    // The entry file's own #! line stays first; esbuild puts the banner after it.
    banner: { js: "import { createRequire as __trowelCreateRequire } from 'node:module';\nconst require = __trowelCreateRequire(import.meta.url);" },
  });
  chmodSync(join(dist, 'trowel.mjs'), 0o755);

  await build({ ...common, format: 'cjs', outfile: join(dist, 'trowel.cjs') });

  const seaConfig = join(dist, 'sea-config.json');
  const blob = join(dist, 'trowel.blob');
  writeFileSync(seaConfig, JSON.stringify({ main: join(dist, 'trowel.cjs'), output: blob, disableExperimentalSEAWarning: true, useCodeCache: false }));
  execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });

  const binary = join(dist, 'trowel');
  rmSync(binary, { force: true });
  copyFileSync(realpathSync(process.execPath), binary);
  chmodSync(binary, 0o755);
  // Debug info and the static symbol table are no use on a PXE image (the
  // dynamic symbols addons need stay); --strip-all saves ~1.6 MiB compressed.
  // Strip before injecting: strip rewrites sections and would drop the blob.
  execFileSync('strip', ['--strip-all', binary]);
  execFileSync(process.execPath, [join('node_modules', 'postject', 'dist', 'cli.js'), binary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'ignore' });
  rmSync(blob);
  rmSync(seaConfig);

  const mib = (f: string) => (statSync(f).size / 2 ** 20).toFixed(1);
  process.stdout.write(`built ${join(dist, 'trowel.mjs')} (${mib(join(dist, 'trowel.mjs'))} MiB) and ${binary} (${mib(binary)} MiB)\n`);
}

await main();
