/**
 * `npm run build:demo-template`: builds the demo template (a minimal Debian
 * made by debootstrap, see rootfs.ts and README.md) and publishes it into a
 * template pool as org.trowel.Demo for x86_64.
 *
 *   node appliance/demo-template/build.ts [--pool DIR] [--state-dir DIR]
 *       [--work-dir DIR] [--cache-dir DIR] [--rebuild] [--no-publish]
 *
 * A rebuild with unchanged inputs reuses the tree, and a tree already
 * published from this build is not published again.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseCommandArgs } from '../../src/cli/args.ts';
import { describeError, TrowelError } from '../../src/errors.ts';
import { TemplatePool } from '../../src/pool/index.ts';
import { publishDemoTemplate } from './publish.ts';
import { buildDemoTemplate, DEMO_TEMPLATE_ARCH, DEMO_TEMPLATE_NAME } from './rootfs.ts';
import { readStamp } from './stamp.ts';

export { buildDemoTemplate, DEMO_PACKAGES, DEMO_TEMPLATE_ARCH, DEMO_TEMPLATE_NAME } from './rootfs.ts';
export type { BuildOptions, DemoRootfs } from './rootfs.ts';
export { publishDemoTemplate } from './publish.ts';

export const DEFAULT_WORK_DIR = 'dist/demo-template';

/** ~/.cache/trowel/debootstrap, or under $XDG_CACHE_HOME: survives `rm -rf dist`. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'trowel', 'debootstrap');
}

const USAGE = `usage: node appliance/demo-template/build.ts [options]
  --pool DIR        the pool to publish into, on btrfs (default <state-dir>/pool)
  --state-dir DIR   trowel's state directory (default /var/lib/trowel)
  --work-dir DIR    where the rootfs is built (default ${DEFAULT_WORK_DIR})
  --cache-dir DIR   debootstrap's .deb cache (default ~/.cache/trowel/debootstrap)
  --rebuild         build even when the inputs have not changed
  --no-publish      build only`;

async function openPool(poolDir: string): Promise<TemplatePool> {
  return TemplatePool.open(poolDir).catch((e: unknown) => {
    if (!(e instanceof TrowelError) || (e.code !== 'ENOTBTRFS' && e.code !== 'ENOPOOL')) throw e;
    throw new TrowelError(e.code, e.message, { hint: `${e.hint ?? 'the pool must be on btrfs'}; without a spare disk, a file-backed one: ${loopPoolRecipe(poolDir)}` });
  });
}

/** Shell commands that make a btrfs pool on a sparse file (also in README.md). */
function loopPoolRecipe(poolDir: string): string {
  return `truncate -s 8G /var/lib/trowel-pool.img && mkfs.btrfs -q /var/lib/trowel-pool.img && mkdir -p ${poolDir} && mount -o loop /var/lib/trowel-pool.img ${poolDir}`;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    pool: { type: 'string' }, 'state-dir': { type: 'string' }, 'work-dir': { type: 'string' },
    'cache-dir': { type: 'string' }, rebuild: { type: 'boolean' }, 'no-publish': { type: 'boolean' },
  }, USAGE);
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (process.getuid?.() !== 0) {
    throw new TrowelError('EPERM', 'Cannot build the demo template: debootstrap and chroot need root', { hint: 'run it with sudo' });
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  // The pool is checked first: a wrong --pool should not cost a build.
  const pool = values['no-publish'] ? undefined : await openPool(values.pool ?? join(values['state-dir'] ?? '/var/lib/trowel', 'pool'));
  const workDir = values['work-dir'] ?? DEFAULT_WORK_DIR;
  const built = await buildDemoTemplate({ workDir, cacheDir: values['cache-dir'] ?? defaultCacheDir(), rebuild: values.rebuild, onProgress: say });
  if (pool === undefined) return 0;

  const latest = await pool.get(DEMO_TEMPLATE_NAME, DEMO_TEMPLATE_ARCH, 'latest');
  const stamp = await readStamp(workDir);
  if (latest && stamp && latest.source === `dir:${built.rootfs}` && latest.publishedAt >= stamp.builtAt) {
    say(`already published from this build: ${DEMO_TEMPLATE_NAME} ${DEMO_TEMPLATE_ARCH} ${latest.version} in ${pool.root}`);
    return 0;
  }
  const version = await publishDemoTemplate(pool, built.rootfs, { onProgress: say });
  say(`published ${version.name} ${version.arch} ${version.version} (${(version.sizeBytes / 2 ** 20).toFixed(0)} MiB) in ${pool.root}`);
  return 0;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${describeError(e)}\n`);
    return e instanceof TrowelError && e.code === 'EUSAGE' ? 2 : 1;
  });
}
