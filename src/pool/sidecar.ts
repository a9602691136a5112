/**
 * The metadata file beside each version, `<pool>/.trowel/<name>/<arch>/<version>.json`
 * (docs/templates.md). Written to a temp file and then renamed (or linked,
 * to claim a version no one else has), so a reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TrowelError } from '../errors.ts';
import { isValidVersion, type TemplateRef } from './names.ts';

export interface Sidecar extends TemplateRef {
  parent: string | null;
  source: string;
  sizeBytes: number;
  publishedAt: string;
}

export const META_DIR = '.trowel';

export function sidecarPath(root: string, ref: TemplateRef): string {
  return join(root, META_DIR, ref.name, ref.arch, `${ref.version}.json`);
}

/** Parses and checks a sidecar's text; it must describe `ref`. Throws TrowelError ESIDECAR. */
export function parseSidecar(text: string, ref: TemplateRef): Sidecar {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad(ref, 'it is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(ref, 'it is not a JSON object');
  const v = value as Record<string, unknown>;
  if (v.name !== ref.name || v.arch !== ref.arch || v.version !== ref.version) throw bad(ref, 'it describes another version');
  if (!(v.parent === null || (typeof v.parent === 'string' && isValidVersion(v.parent)))) throw bad(ref, '"parent" is not a version or null');
  if (typeof v.source !== 'string') throw bad(ref, '"source" is not a string');
  if (typeof v.sizeBytes !== 'number' || !Number.isSafeInteger(v.sizeBytes) || v.sizeBytes < 0) throw bad(ref, '"sizeBytes" is not a byte count');
  if (typeof v.publishedAt !== 'string' || Number.isNaN(Date.parse(v.publishedAt))) throw bad(ref, '"publishedAt" is not a date');
  return { name: ref.name, arch: ref.arch, version: ref.version, parent: v.parent, source: v.source, sizeBytes: v.sizeBytes, publishedAt: v.publishedAt };
}

/** The sidecar of `ref`, or undefined when there is none. */
export async function readSidecar(root: string, ref: TemplateRef): Promise<Sidecar | undefined> {
  let text: string;
  try {
    text = await readFile(sidecarPath(root, ref), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseSidecar(text, ref);
}

/** Writes (or replaces) the sidecar atomically. */
export async function writeSidecar(root: string, sidecar: Sidecar): Promise<void> {
  const temp = await writeTemp(root, sidecar);
  try {
    await rename(temp, sidecarPath(root, sidecar));
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/**
 * Writes the sidecar only if this version has none yet, atomically even
 * against another process: link(2) never replaces an existing name.
 * Returns false when the version is taken.
 */
export async function claimSidecar(root: string, sidecar: Sidecar): Promise<boolean> {
  const temp = await writeTemp(root, sidecar);
  try {
    await link(temp, sidecarPath(root, sidecar));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(temp, { force: true });
  }
}

export async function removeSidecar(root: string, ref: TemplateRef): Promise<void> {
  await rm(sidecarPath(root, ref), { force: true });
}

/** @private A fully written, synced temp file beside the final one. */
async function writeTemp(root: string, sidecar: Sidecar): Promise<string> {
  const final = sidecarPath(root, sidecar);
  await mkdir(dirname(final), { recursive: true });
  const temp = `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const { name, arch, version, parent, source, sizeBytes, publishedAt } = sidecar;
  const file = await open(temp, 'wx', 0o644);
  try {
    await file.writeFile(JSON.stringify({ name, arch, version, parent, source, sizeBytes, publishedAt }, null, 2) + '\n');
    await file.sync();
  } finally {
    await file.close();
  }
  return temp;
}

/** @private */
function bad(ref: TemplateRef, why: string): TrowelError {
  return new TrowelError('ESIDECAR', `Cannot read the metadata of ${ref.name} ${ref.arch} ${ref.version}: ${why}`);
}
