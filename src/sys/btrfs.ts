/**
 * Typed wrapper over btrfs-progs: the subvolume operations the template
 * pool and the provisioning client need, and `send`/`receive` as streaming
 * child processes. Nothing else in trowel runs `btrfs` directly.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CommandError, run } from './run.ts';

export interface SubvolumeInfo {
  path: string;
  name: string;
  uuid: string;
  /** UUID of the subvolume this was snapshotted from, if any. */
  parentUuid: string | undefined;
  /** Set on a subvolume created by `btrfs receive`: the sender's UUID. */
  receivedUuid: string | undefined;
  readonly: boolean;
  generation: number;
}

const dash = (v: string | undefined) => (v === undefined || v === '-' ? undefined : v);

/** Parses `btrfs subvolume show` output (pure; exported for tests). */
export function parseSubvolumeShow(path: string, text: string): SubvolumeInfo {
  const field = (label: string) => new RegExp(`^\\s*${label}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  return {
    path,
    name: field('Name') ?? path.split('/').pop()!,
    uuid: field('UUID') ?? '',
    parentUuid: dash(field('Parent UUID')),
    receivedUuid: dash(field('Received UUID')),
    readonly: /^\s*Flags:.*\breadonly\b/m.test(text),
    generation: Number(field('Generation') ?? 0),
  };
}

export async function showSubvolume(path: string): Promise<SubvolumeInfo> {
  const { stdout } = await run('btrfs', ['subvolume', 'show', path]);
  return parseSubvolumeShow(path, stdout);
}

/** True when `path` is the root of a btrfs subvolume. */
export async function isSubvolume(path: string): Promise<boolean> {
  return run('btrfs', ['subvolume', 'show', path]).then(() => true, () => false);
}

export async function createSubvolume(path: string): Promise<void> {
  await run('btrfs', ['subvolume', 'create', path]);
}

export async function snapshot(source: string, target: string, options: { readonly?: boolean } = {}): Promise<void> {
  await run('btrfs', ['subvolume', 'snapshot', ...(options.readonly ? ['-r'] : []), source, target]);
}

export async function setReadonly(path: string, readonly: boolean): Promise<void> {
  await run('btrfs', ['property', 'set', '-ts', path, 'ro', String(readonly)]);
}

export async function deleteSubvolume(path: string): Promise<void> {
  await run('btrfs', ['subvolume', 'delete', path]);
}

/** Makes `path` the filesystem's default subvolume (what mounts without subvol= get, and GRUB's root). */
export async function setDefaultSubvolume(path: string): Promise<void> {
  const { stdout } = await run('btrfs', ['inspect-internal', 'rootid', path]);
  await run('btrfs', ['subvolume', 'set-default', stdout.trim(), path]);
}

/** Parses `btrfs subvolume get-default` output (pure; exported for tests): id 5 is the top level, path "". */
export function parseGetDefault(text: string): { id: number; path: string } {
  const m = /^ID (\d+)(?: gen \d+ top level \d+ path (.*))?/m.exec(text.trim());
  if (!m) throw new CommandError('btrfs subvolume get-default', 0, null, `unexpected output: ${text.trim()}`);
  return { id: Number(m[1]), path: m[2]?.trim() ?? '' };
}

/** The filesystem's default subvolume (what mounts without subvol= get). */
export async function getDefaultSubvolume(path: string): Promise<{ id: number; path: string }> {
  const { stdout } = await run('btrfs', ['subvolume', 'get-default', path]);
  return parseGetDefault(stdout);
}

export type StreamingChild<I extends Writable | null, O extends Readable | null> = {
  child: ChildProcessByStdio<I, O, Readable>;
  /** Resolves when the process exits 0; rejects with a CommandError otherwise. */
  done: Promise<void>;
};

function streaming<I extends Writable | null, O extends Readable | null>(args: string[], stdio: ['pipe' | 'ignore', 'pipe' | 'ignore']): StreamingChild<I, O> {
  const child = spawn('btrfs', args, { stdio: [stdio[0], stdio[1], 'pipe'] }) as unknown as ChildProcessByStdio<I, O, Readable>;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new CommandError(`btrfs ${args.join(' ')}`, null, null, e.message)));
    child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new CommandError(`btrfs ${args.join(' ')}`, code, signal, stderr))));
  });
  return { child, done };
}

/** `btrfs send [-p parent] path`: the stream is `child.stdout`. */
export function send(path: string, options: { parent?: string } = {}): StreamingChild<null, Readable> {
  const args = ['send', '--quiet', ...(options.parent ? ['-p', options.parent] : []), path];
  return streaming<null, Readable>(args, ['ignore', 'pipe']);
}

/**
 * `btrfs receive <dir>`: write the stream to `child.stdin`. `-e` ends at the
 * stream's end marker, so a truncated stream fails instead of hanging.
 */
export function receive(intoDir: string): StreamingChild<Writable, null> {
  return streaming<Writable, null>(['receive', '-e', intoDir], ['pipe', 'ignore']);
}
