/**
 * The template pool: read-only btrfs subvolumes `@template:<name>:<arch>:<version>`
 * directly under a root on btrfs, each with a sidecar of metadata
 * (docs/templates.md). The subvolumes are the truth; sidecars add parent,
 * size, source and publish time.
 *
 * A new version is built in a hidden staging subvolume in the same
 * directory (`.staging.<pid>.<random>`: not a template name, so never
 * listed), made read-only, and only then renamed to its version name, so a
 * failure or a crash at any step leaves no new version behind. btrfs allows
 * renaming a read-only subvolume within its directory, not into another one.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, stat, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrowelError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { createSubvolume, deleteSubvolume, setReadonly } from '../sys/btrfs.ts';
import { apparentSize } from '../sys/tree.ts';
import {
  compareVersions, LATEST, newVersion, parseSubvolumeName, subvolumeName, validateArch, validateName,
  validateRef, validateVersion, versionDate, type Arch, type TemplateRef,
} from './names.ts';
import { runPrepareHooks } from './prepare-hooks.ts';
import { childrenOf, selectForGc } from './retention.ts';
import { claimSidecar, META_DIR, readSidecar, removeSidecar, writeSidecar, type Sidecar } from './sidecar.ts';
import { materialize } from './sources.ts';
import type { PublishSource, TemplateVersion } from './types.ts';

/** statfs(2) f_type of btrfs (linux/magic.h). */
const BTRFS_SUPER_MAGIC = 0x9123683e;
/** Every btrfs subvolume's top directory has this inode number (BTRFS_FIRST_FREE_OBJECTID). */
const SUBVOLUME_ROOT_INODE = 256;
const STAGING_PREFIX = '.staging.';
/** How many seconds a publish waits for a version newer than the newest one before giving up. */
const MAX_VERSION_WAITS = 10;

export interface PoolOptions {
  log?: Logger;
  /** The clock versions come from (tests pass their own). */
  now?: () => Date;
}

export interface PublishOptions {
  name: string;
  arch: Arch;
  from: PublishSource;
  /** One human-readable line per step (copying, hooks, ...). */
  onProgress?: (line: string) => void;
}

export interface AdoptMeta {
  parent: string | null;
  sizeBytes: number;
  publishedAt: string;
  source: string;
}

export class TemplatePool {
  readonly root: string;
  private readonly log: Logger;
  private readonly now: () => Date;
  /** Serializes the steps that read the version list and then change it, within this process. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(root: string, options: PoolOptions = {}) {
    this.root = resolve(root);
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Opens the pool at `root`: it must be on btrfs. A missing root whose
   * parent is on btrfs is created as a subvolume. Leftover staging
   * subvolumes of publishes whose process is gone are deleted.
   */
  static async open(root: string, options: PoolOptions = {}): Promise<TemplatePool> {
    const pool = new TemplatePool(root, options);
    await pool.prepareRoot();
    return pool;
  }

  /** Versions (optionally of one name and/or arch), grouped by name and arch, newest first. */
  async list(filter: { name?: string; arch?: Arch } = {}): Promise<TemplateVersion[]> {
    if (filter.name !== undefined) validateName(filter.name);
    if (filter.arch !== undefined) validateArch(filter.arch);
    const refs: TemplateRef[] = [];
    for (const entry of await readdir(this.root)) {
      const ref = parseSubvolumeName(entry);
      if (ref && (filter.name === undefined || ref.name === filter.name) && (filter.arch === undefined || ref.arch === filter.arch)) refs.push(ref);
    }
    const versions = (await Promise.all(refs.map((ref) => this.describe(ref)))).filter((v) => v !== undefined);
    return versions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : compareVersions(b.version, a.version)));
  }

  /** One version, or the newest for `latest`; undefined when there is none. */
  async get(name: string, arch: Arch, version: string): Promise<TemplateVersion | undefined> {
    validateName(name);
    validateArch(arch);
    if (version === LATEST) return (await this.list({ name, arch }))[0];
    return this.describe({ name, arch, version: validateVersion(version) });
  }

  /**
   * Makes a new read-only version from `from`: snapshot or copy, the
   * template's prepare hooks, size, then read-only, sidecar and its name.
   * Its parent is the newest version of the same name and arch.
   */
  async publish(options: PublishOptions): Promise<TemplateVersion> {
    const name = validateName(options.name);
    const arch = validateArch(options.arch);
    const progress = (line: string) => {
      this.log.info('publish_progress', { template: name, arch, step: line });
      options.onProgress?.(line);
    };
    const staging = join(this.root, `${STAGING_PREFIX}${process.pid}.${randomBytes(6).toString('hex')}`);
    const started = Date.now();
    try {
      const source = await materialize(options.from, staging, { poolRoot: this.root, log: this.log, progress });
      await runPrepareHooks(staging, { name, arch, log: this.log, progress });
      progress('measuring');
      const sizeBytes = await apparentSize(staging);
      await setReadonly(staging, true);
      const published = await this.exclusive(() => this.commit(staging, { name, arch, source, sizeBytes }));
      progress(`published ${name} ${arch} ${published.version}`);
      this.log.info('template_published', { template: name, arch, version: published.version, parent: published.parent, source, sizeBytes, ms: Date.now() - started });
      return published;
    } catch (e) {
      if (await exists(staging)) {
        await deleteSubvolume(staging).catch((err: unknown) => this.log.error('staging_delete_failed', { path: staging, error: (err as Error).message }));
      }
      this.log.info('publish_failed', { template: name, arch, error: (e as Error).message });
      throw e;
    }
  }

  /**
   * Deletes a version. A version that is the parent of another one is
   * refused (EPARENT) unless `force`; with force, its children's sidecars
   * lose their parent (they then have no default incremental base).
   */
  async remove(ref: TemplateRef, options: { force?: boolean } = {}): Promise<void> {
    const r = validateRef(ref);
    await this.exclusive(async () => {
      const target = await this.describe(r);
      if (!target) throw notFound('remove', r);
      const children = childrenOf(await this.list({ name: r.name, arch: r.arch }), r);
      if (children.length > 0 && !options.force) {
        throw new TrowelError('EPARENT', `Cannot remove ${label(r)}: it is the parent of ${children.map((c) => c.version).join(', ')}`, {
          hint: 'remove those first, or use --force',
        });
      }
      await this.deleteVersion(target, children);
    });
  }

  /**
   * Keeps the newest `keep` versions per name and arch (and their parents),
   * removes the rest; returns what was removed, oldest first.
   */
  async gc(options: { keep: number; name?: string; arch?: Arch }): Promise<TemplateVersion[]> {
    if (!Number.isSafeInteger(options.keep) || options.keep < 1) {
      throw new TrowelError('EBADKEEP', `Cannot collect old versions: keep must be a whole number of at least 1, not ${options.keep}`, {
        hint: 'to remove every version use trowel template rm',
      });
    }
    return this.exclusive(async () => {
      const versions = await this.list({ name: options.name, arch: options.arch });
      const doomed = selectForGc(versions, options.keep);
      for (const v of doomed) await this.deleteVersion(v, childrenOf(versions, v));
      this.log.info('gc_done', { keep: options.keep, name: options.name, arch: options.arch, removed: doomed.length });
      return doomed;
    });
  }

  /** For `trowel pull` / receive into a pool: writes the sidecar for a subvolume that arrived by btrfs receive. */
  async adopt(ref: TemplateRef, meta: AdoptMeta): Promise<TemplateVersion> {
    const r = validateRef(ref);
    if (meta.parent !== null) validateVersion(meta.parent);
    if (!Number.isSafeInteger(meta.sizeBytes) || meta.sizeBytes < 0) throw new TrowelError('EBADMETA', `Cannot adopt ${label(r)}: sizeBytes ${meta.sizeBytes} is not a byte count`);
    if (Number.isNaN(Date.parse(meta.publishedAt))) throw new TrowelError('EBADMETA', `Cannot adopt ${label(r)}: publishedAt ${JSON.stringify(meta.publishedAt)} is not a date`);
    return this.exclusive(async () => {
      if (!(await isSubvolumeRoot(join(this.root, subvolumeName(r))))) throw notFound('adopt', r);
      await writeSidecar(this.root, { ...r, parent: meta.parent, source: meta.source, sizeBytes: meta.sizeBytes, publishedAt: meta.publishedAt });
      this.log.info('template_adopted', { template: r.name, arch: r.arch, version: r.version, parent: meta.parent });
      return (await this.describe(r))!;
    });
  }

  /** @private Checks btrfs, creates the root (as a subvolume) and .trowel/, clears stale staging. */
  private async prepareRoot(): Promise<void> {
    const rootStat = await stat(this.root).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (rootStat === undefined) {
      if (!(await onBtrfs(dirname(this.root)))) {
        throw new TrowelError('ENOPOOL', `Cannot open pool ${this.root}: it does not exist`, {
          hint: `create it on a btrfs filesystem with "btrfs subvolume create ${this.root}", or give --pool DIR`,
        });
      }
      await createSubvolume(this.root);
      this.log.info('pool_created', { root: this.root });
    } else if (!rootStat.isDirectory()) {
      throw new TrowelError('ENOPOOL', `Cannot open pool ${this.root}: it is not a directory`);
    } else if (!(await onBtrfs(this.root))) {
      throw new TrowelError('ENOTBTRFS', `Cannot open pool ${this.root}: not a btrfs filesystem`, {
        hint: `templates are btrfs subvolumes: mount a btrfs filesystem at ${this.root} or give --pool a directory on one`,
      });
    }
    await mkdir(join(this.root, META_DIR), { recursive: true });
    await this.removeStaleStaging();
  }

  /** @private Staging subvolumes whose publishing process no longer exists (a crash, a kill). */
  private async removeStaleStaging(): Promise<void> {
    for (const entry of await readdir(this.root)) {
      if (!entry.startsWith(STAGING_PREFIX)) continue;
      const pid = Number(entry.slice(STAGING_PREFIX.length).split('.')[0]);
      const path = join(this.root, entry);
      if (!Number.isSafeInteger(pid) || processAlive(pid) || !(await isSubvolumeRoot(path))) continue;
      await deleteSubvolume(path);
      this.log.info('stale_staging_removed', { path });
    }
  }

  /**
   * @private Picks the version (the clock's second, strictly newer than the
   * newest: waits for the next second rather than reuse one), claims it
   * with its sidecar and gives the staging subvolume its name.
   */
  private async commit(staging: string, base: Pick<Sidecar, 'name' | 'arch' | 'source' | 'sizeBytes'>): Promise<TemplateVersion> {
    for (let waits = 0; ; waits++) {
      const newest = (await this.list({ name: base.name, arch: base.arch }))[0];
      const now = this.now();
      const version = newVersion(now);
      if (newest && compareVersions(version, newest.version) <= 0) {
        if (versionDate(newest.version).getTime() - now.getTime() > MAX_VERSION_WAITS * 1000 || waits >= MAX_VERSION_WAITS) {
          throw new TrowelError('ECLOCK', `Cannot publish ${base.name} ${base.arch}: its newest version ${newest.version} is not older than the clock (${version})`, {
            hint: 'check the system clock',
          });
        }
        this.log.debug('version_wait', { template: base.name, arch: base.arch, newest: newest.version, now: version });
        await sleep(1000 - (now.getTime() % 1000));
        continue;
      }
      const ref: TemplateRef = { name: base.name, arch: base.arch, version };
      const sidecar: Sidecar = { ...ref, parent: newest?.version ?? null, source: base.source, sizeBytes: base.sizeBytes, publishedAt: now.toISOString() };
      const final = join(this.root, subvolumeName(ref));
      // Another process may have taken this second: its sidecar link or its subvolume is already there.
      if ((await exists(final)) || !(await claimSidecar(this.root, sidecar))) {
        await sleep(1000 - (now.getTime() % 1000));
        continue;
      }
      try {
        await rename(staging, final);
      } catch (e) {
        await removeSidecar(this.root, ref);
        throw e;
      }
      return (await this.describe(ref))!;
    }
  }

  /** @private Subvolume first (it is the truth), then its sidecar; children lose their parent. */
  private async deleteVersion(target: TemplateVersion, children: readonly TemplateVersion[]): Promise<void> {
    await deleteSubvolume(target.path);
    await removeSidecar(this.root, target);
    for (const child of children) {
      const sidecar = await readSidecar(this.root, child).catch(() => undefined);
      if (sidecar) await writeSidecar(this.root, { ...sidecar, parent: null });
    }
    this.log.info('template_removed', { template: target.name, arch: target.arch, version: target.version, orphaned: children.map((c) => c.version) });
  }

  /** @private The version as listed, or undefined when its subvolume is missing. A bad sidecar counts as none. */
  private async describe(ref: TemplateRef): Promise<TemplateVersion | undefined> {
    const path = join(this.root, subvolumeName(ref));
    if (!(await isSubvolumeRoot(path))) return undefined;
    let sidecar: Sidecar | undefined;
    try {
      sidecar = await readSidecar(this.root, ref);
    } catch (e) {
      if (!(e instanceof TrowelError)) throw e;
      this.log.warn('sidecar_invalid', { template: ref.name, arch: ref.arch, version: ref.version, error: e.message });
    }
    return {
      name: ref.name, arch: ref.arch, version: ref.version,
      parent: sidecar?.parent ?? null,
      sizeBytes: sidecar?.sizeBytes ?? 0,
      publishedAt: sidecar?.publishedAt ?? versionDate(ref.version).toISOString(),
      source: sidecar?.source ?? 'unknown',
      path,
    };
  }

  /** @private Runs `fn` after every earlier exclusive step of this pool object has settled. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn, fn);
    this.queue = result.catch(() => {});
    return result;
  }
}

/** @private */
function label(ref: TemplateRef): string {
  return `${ref.name} ${ref.arch} ${ref.version}`;
}

/** @private */
function notFound(action: string, ref: TemplateRef): TrowelError {
  return new TrowelError('ENOVERSION', `Cannot ${action} ${label(ref)}: no such version in the pool`, { hint: 'see trowel template list' });
}

/** @private */
async function onBtrfs(path: string): Promise<boolean> {
  try {
    return (await statfs(path)).type === BTRFS_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** @private True for the top directory of a subvolume (not a plain directory with a template's name). */
async function isSubvolumeRoot(path: string): Promise<boolean> {
  try {
    const st = await lstat(path);
    return st.isDirectory() && st.ino === SUBVOLUME_ROOT_INODE;
  } catch {
    return false;
  }
}

/** @private */
async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

/** @private Signal 0 checks existence; EPERM means it exists under another user. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
