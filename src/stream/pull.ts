/**
 * Replication (`trowel pull`): brings this pool up to date with another
 * trowel server. For each of its templates (or the one asked for), every
 * version this pool lacks is received oldest first, incrementally from the
 * newest version both hold (pull-plan.ts), verified like any receive, then
 * adopted into the pool with the other server's metadata. A failure stops
 * that template (later versions build on the missing one); what was
 * received before it stays, so running pull again carries on from there.
 */
import type { KeyObject } from 'node:crypto';
import { TrowelError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { isArch, isValidName, type Arch, type TemplateRef } from '../pool/names.ts';
import type { TemplateVersion } from '../pool/types.ts';
import type { ProgressSnapshot } from './progress.ts';
import { planPull, type PullStep } from './pull-plan.ts';
import { receiveTemplate, type ReceiveOptions } from './receive.ts';
import { TemplateApi } from './template-api.ts';

/** What pull needs of a pool; TemplatePool provides it. */
export interface PullTarget {
  readonly root: string;
  list(filter?: { name?: string; arch?: Arch }): Promise<TemplateVersion[]>;
  adopt(ref: TemplateRef, meta: { parent: string | null; sizeBytes: number; publishedAt: string; source: string }): Promise<TemplateVersion>;
}

export interface PullOptions {
  /** Base URL of the other trowel server. */
  from: string;
  name?: string;
  arch?: Arch;
  /** The other server's pinned key. */
  publicKey: KeyObject;
  pool: PullTarget;
  log?: Logger;
  signal?: AbortSignal;
  /** Called before each receive. */
  onStep?: (ref: TemplateRef, step: PullStep) => void;
  onProgress?: (ref: TemplateRef, progress: ProgressSnapshot) => void;
  /** Called after each version is received and adopted (a later failure does not undo it). */
  onPulled?: (pulled: PulledVersion) => void;
  fetch?: ReceiveOptions['fetch'];
}

export interface PulledVersion {
  ref: TemplateRef;
  /** The incremental base, or null for a full stream. */
  base: string | null;
  /** Compressed bytes of the stream. */
  bytes: number;
  adopted: TemplateVersion;
}

export interface PullResult {
  pulled: PulledVersion[];
  /** Templates (name and arch) that were already up to date. */
  upToDate: { name: string; arch: Arch }[];
}

export async function pullTemplates(options: PullOptions): Promise<PullResult> {
  const log = options.log ?? silentLogger;
  const api = new TemplateApi(options.from, { dispatcher: options.fetch?.dispatcher });
  const remote = (await api.listTemplates()).filter((t) => (options.name === undefined || t.name === options.name) && (options.arch === undefined || t.arch === options.arch));
  if (options.name !== undefined && remote.length === 0) {
    throw new TrowelError('ENOTFOUND', `Cannot pull ${options.name}${options.arch ? ` ${options.arch}` : ''}: ${api.server} has no such template`);
  }
  const result: PullResult = { pulled: [], upToDate: [] };
  for (const template of remote) {
    // The other server checked these names, but they become paths here: check again.
    if (!isValidName(template.name) || !isArch(template.arch)) {
      log.warn('pull_skipped', { name: template.name, arch: template.arch, reason: 'invalid name or arch' });
      continue;
    }
    const { name, arch } = template;
    const local = (await options.pool.list({ name, arch })).map((v) => v.version);
    const steps = planPull(template.versions, local);
    if (steps.length === 0) {
      result.upToDate.push({ name, arch });
      continue;
    }
    for (const step of steps) {
      const ref: TemplateRef = { name, arch, version: step.version };
      options.onStep?.(ref, step);
      const received = await receiveTemplate({
        server: options.from,
        name,
        arch,
        version: step.version,
        parent: step.base,
        intoDir: options.pool.root,
        publicKey: options.publicKey,
        log,
        signal: options.signal,
        fetch: options.fetch,
        onProgress: (p) => options.onProgress?.(ref, p),
      });
      const adopted = await options.pool.adopt(ref, {
        parent: step.remote.parent,
        sizeBytes: step.remote.sizeBytes,
        publishedAt: step.remote.publishedAt,
        source: `pull:${api.server}`,
      });
      log.info('pulled', { name, arch, version: step.version, base: step.base, bytes: received.manifest.compressedSize });
      const pulled: PulledVersion = { ref, base: step.base, bytes: received.manifest.compressedSize, adopted };
      result.pulled.push(pulled);
      options.onPulled?.(pulled);
    }
  }
  return result;
}
