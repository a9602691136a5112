/**
 * `trowel template publish|list|show|rm|gc`: the template pool on this
 * host's btrfs (docs/templates.md). Wiring only: argument parsing, the pool
 * calls, and the tables; publishing prints its steps on stderr.
 */
import { join, resolve as resolvePath } from 'node:path';
import { describeError, TrowelError } from '../errors.ts';
import { createLogger, LogLevel, type LogRecord } from '../log/logger.ts';
import { TemplatePool, validateArch, type Arch, type PublishSource, type TemplateVersion } from '../pool/index.ts';
import { pruneStreamCache } from '../stream/cache-prune.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import type { CommandIo } from './machines.ts';
import { templateReceiveCommand } from './template-receive.ts';

const USAGE = `usage: trowel template publish --name NAME --arch ARCH SOURCE [--json]
       trowel template list [--name NAME] [--arch ARCH] [--json]
       trowel template show NAME [--arch ARCH] [--json]
       trowel template rm NAME ARCH VERSION [--force]
       trowel template gc --keep N [--name NAME] [--arch ARCH] [--json]
       trowel template receive --server URL --name NAME --arch ARCH
                               --into DIR --key FILE  (more: receive -h)

SOURCE is one of:
  --from DIR        copy a directory holding a root filesystem
  --subvolume PATH  snapshot a btrfs subvolume on the pool's filesystem
  --lxc NAME        a stopped LXC container (--lxc-path DIR: where it lives)

NAME is <namespace>.<Identifier> (org.example.Desktop), ARCH x86_64 or aarch64.

options:
  --pool DIR        the pool, a directory on btrfs (default <state-dir>/pool)
  --state-dir DIR   trowel's state directory (default /var/lib/trowel)
  --json            print JSON instead of text
  --force           rm: remove a version even if it is another's parent`;

const OPTIONS = {
  name: { type: 'string' },
  arch: { type: 'string' },
  from: { type: 'string' },
  subvolume: { type: 'string' },
  lxc: { type: 'string' },
  'lxc-path': { type: 'string' },
  keep: { type: 'string' },
  pool: { type: 'string' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  force: { type: 'boolean' },
} as const;

type OptionName = keyof typeof OPTIONS;

/** Options every subcommand takes, and those only some do. */
const COMMON: OptionName[] = ['pool', 'state-dir'];
const ALLOWED: Record<string, OptionName[]> = {
  publish: ['name', 'arch', 'from', 'subvolume', 'lxc', 'lxc-path', 'json'],
  list: ['name', 'arch', 'json'],
  show: ['arch', 'json'],
  rm: ['force'],
  gc: ['keep', 'name', 'arch', 'json'],
};

const processIo: CommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

type Request =
  | { kind: 'help' }
  | { kind: 'publish'; pool: string; json: boolean; name: string; arch: Arch; from: PublishSource }
  | { kind: 'list'; pool: string; json: boolean; name?: string; arch?: Arch }
  | { kind: 'show'; pool: string; json: boolean; name: string; arch?: Arch }
  | { kind: 'rm'; pool: string; cacheDir?: string; name: string; arch: Arch; version: string; force: boolean }
  | { kind: 'gc'; pool: string; cacheDir?: string; json: boolean; keep: number; name?: string; arch?: Arch };

export async function templateCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  // `receive` talks to a server, not to this host's pool: its own command file.
  if (argv[0] === 'receive') return templateReceiveCommand(argv.slice(1), io);
  let request: Request;
  try {
    request = parseRequest(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`trowel template: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (request.kind === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    const log = createLogger('template', (r) => io.stderr(`trowel: warning: ${formatRecord(r)}\n`), LogLevel.warn);
    const pool = await TemplatePool.open(request.pool, { log });
    switch (request.kind) {
      case 'publish': {
        const version = await pool.publish({ name: request.name, arch: request.arch, from: request.from, onProgress: (line) => io.stderr(`  ${line}\n`) });
        io.stdout(request.json ? toJson(version) : formatVersion(version));
        break;
      }
      case 'list': {
        const versions = await pool.list({ name: request.name, arch: request.arch });
        io.stdout(request.json ? toJson(versions) : formatList(versions, pool.root));
        break;
      }
      case 'show': {
        const versions = await pool.list({ name: request.name, arch: request.arch });
        if (versions.length === 0) {
          throw new TrowelError('ENOTEMPLATE', `Cannot show ${request.name}${request.arch ? ` ${request.arch}` : ''}: the pool has no versions of it`, {
            hint: 'see trowel template list',
          });
        }
        io.stdout(request.json ? toJson(versions) : versions.map(formatVersion).join('\n'));
        break;
      }
      case 'rm': {
        await pool.remove({ name: request.name, arch: request.arch, version: request.version }, { force: request.force });
        io.stdout(`removed ${request.name} ${request.arch} ${request.version}\n`);
        await pruneCache(request.cacheDir, pool, io, false);
        break;
      }
      case 'gc': {
        const removed = await pool.gc({ keep: request.keep, name: request.name, arch: request.arch });
        if (request.json) io.stdout(toJson(removed));
        else if (removed.length === 0) io.stdout(`nothing to remove: every template has at most ${request.keep} version${request.keep === 1 ? '' : 's'} besides parents of kept ones\n`);
        else io.stdout(removed.map((v) => `removed ${v.name} ${v.arch} ${v.version}\n`).join(''));
        await pruneCache(request.cacheDir, pool, io, request.json);
        break;
      }
    }
    return 0;
  } catch (e) {
    io.stderr(`trowel: ${describeError(e)}\n`);
    return 1;
  }
}

/**
 * @private After rm or gc: the server's cached streams of the removed
 * versions go too (a running server would otherwise keep them until its
 * next start). Said on stdout unless --json, whose output stays the list.
 */
async function pruneCache(cacheDir: string | undefined, pool: TemplatePool, io: CommandIo, json: boolean): Promise<void> {
  if (cacheDir === undefined) return;
  let pruned;
  try {
    pruned = await pruneStreamCache({ cacheDir, pool });
  } catch (e) {
    // The removal itself succeeded; the server prunes again when it starts.
    io.stderr(`trowel: warning: could not prune the stream cache in ${cacheDir}: ${describeError(e)}\n`);
    return;
  }
  if (!json && pruned.files > 0) {
    io.stdout(`freed ${formatBytes(pruned.bytes)} of cached streams (${pruned.files} file${pruned.files === 1 ? '' : 's'} in ${cacheDir})\n`);
  }
}

/** @private Turns argv into one request, or throws UsageError. */
function parseRequest(argv: string[]): Request {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE, true);
  if (values.help) return { kind: 'help' };
  const [sub, ...args] = positionals;
  if (sub === undefined) throw new UsageError('missing subcommand', USAGE);
  const allowed = ALLOWED[sub];
  if (!allowed) throw new UsageError(`unknown subcommand "${sub}"`, USAGE);
  for (const option of Object.keys(values) as OptionName[]) {
    if (option !== ('help' as OptionName) && !COMMON.includes(option) && !allowed.includes(option)) {
      throw new UsageError(`"template ${sub}" does not take --${option}`, USAGE);
    }
  }
  const stateDir = values['state-dir'] ?? '/var/lib/trowel';
  const pool = values.pool ?? join(stateDir, 'pool');
  // The server keeps the streams of <state-dir>/pool in <state-dir>/cache; another pool's removals must not touch them.
  const cacheDir = resolvePath(pool) === resolvePath(stateDir, 'pool') ? join(stateDir, 'cache') : undefined;
  const json = values.json ?? false;
  const arch = values.arch === undefined ? undefined : archOption(values.arch);
  const positional = (names: string[]) => {
    if (args.length !== names.length) {
      throw new UsageError(`"template ${sub}" takes ${names.length === 0 ? 'no arguments' : names.join(' ')}${args.length > names.length ? `, not ${args.slice(names.length).map((a) => JSON.stringify(a)).join(' ')}` : ''}`, USAGE);
    }
  };
  switch (sub) {
    case 'publish': {
      positional([]);
      if (values.name === undefined) throw new UsageError('"template publish" needs --name NAME', USAGE);
      if (arch === undefined) throw new UsageError('"template publish" needs --arch ARCH (x86_64 or aarch64)', USAGE);
      return { kind: 'publish', pool, json, name: values.name, arch, from: sourceOption(values) };
    }
    case 'list':
      positional([]);
      return { kind: 'list', pool, json, name: values.name, arch };
    case 'show':
      positional(['NAME']);
      return { kind: 'show', pool, json, name: args[0]!, arch };
    case 'rm':
      positional(['NAME', 'ARCH', 'VERSION']);
      return { kind: 'rm', pool, cacheDir, name: args[0]!, arch: archOption(args[1]!), version: args[2]!, force: values.force ?? false };
    case 'gc': {
      positional([]);
      if (values.keep === undefined) throw new UsageError('"template gc" needs --keep N', USAGE);
      if (!/^[1-9][0-9]{0,5}$/.test(values.keep)) throw new UsageError(`--keep must be a whole number of at least 1, not "${values.keep}"`, USAGE);
      return { kind: 'gc', pool, cacheDir, json, keep: Number(values.keep), name: values.name, arch };
    }
    default:
      throw new UsageError(`unknown subcommand "${sub}"`, USAGE);
  }
}

/** @private Exactly one of --from, --subvolume, --lxc; --lxc-path only with --lxc. */
function sourceOption(values: { from?: string; subvolume?: string; lxc?: string; 'lxc-path'?: string }): PublishSource {
  const given = (['from', 'subvolume', 'lxc'] as const).filter((k) => values[k] !== undefined);
  if (given.length !== 1) {
    throw new UsageError(given.length === 0 ? '"template publish" needs a source: --from DIR, --subvolume PATH or --lxc NAME' : `give one source, not --${given.join(' and --')}`, USAGE);
  }
  if (values['lxc-path'] !== undefined && values.lxc === undefined) throw new UsageError('--lxc-path goes with --lxc', USAGE);
  if (values.from !== undefined) return { kind: 'dir', path: values.from };
  if (values.subvolume !== undefined) return { kind: 'subvolume', path: values.subvolume };
  return values['lxc-path'] === undefined ? { kind: 'lxc', name: values.lxc! } : { kind: 'lxc', name: values.lxc!, lxcPath: values['lxc-path'] };
}

/** @private A bad arch is a usage error (the hint of EBADARCH says which spelling was meant). */
function archOption(raw: string): Arch {
  try {
    return validateArch(raw);
  } catch (e) {
    const error = e as TrowelError;
    throw new UsageError(`${error.message}${error.hint ? ` (${error.hint})` : ''}`, USAGE);
  }
}

/** Versions grouped under "name (arch)", one row each, on fewer than 80 columns. */
export function formatList(versions: readonly TemplateVersion[], poolRoot: string): string {
  if (versions.length === 0) return `No templates in ${poolRoot} yet: publish one with "trowel template publish".\n`;
  const groups: string[] = [];
  let current = '';
  let rows: string[][] = [];
  const flush = () => {
    if (rows.length === 0) return;
    const table = [['VERSION', 'SIZE', 'PARENT', 'PUBLISHED'], ...rows];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    groups.push(`${current}\n${table.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd()).join('\n')}\n`);
    rows = [];
  };
  for (const v of versions) {
    const group = `${v.name} (${v.arch})`;
    if (group !== current) {
      flush();
      current = group;
    }
    rows.push([v.version, formatBytes(v.sizeBytes), v.parent ?? '-', formatTime(v.publishedAt)]);
  }
  flush();
  return groups.join('\n');
}

/** One version, "key  value" lines under its name (show and publish). */
export function formatVersion(v: TemplateVersion): string {
  const fields: [string, string][] = [
    ['parent', v.parent ?? '- (first version)'],
    ['size', `${formatBytes(v.sizeBytes)} (${v.sizeBytes} bytes)`],
    ['published', formatTime(v.publishedAt)],
    ['source', v.source],
    ['path', v.path],
  ];
  return `${v.name} ${v.arch} ${v.version}\n${fields.map(([k, val]) => `  ${k.padEnd(10)} ${val}\n`).join('')}`;
}

/** "512 B", "1.5 KiB", "12.3 MiB", "1.2 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** @private "2026-11-22 02:37 UTC". */
function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** @private A warning from the pool as one readable line. */
function formatRecord(r: LogRecord): string {
  const { ts: _ts, level: _level, component: _component, event, ...fields } = r;
  return [event, ...Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)].join(' ');
}

/** @private */
function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
