/**
 * What a finished rootfs was built from. The fingerprint covers the apt
 * source, the package list, the arch and the files that shape the tree
 * (the overlay and the code that builds and copies it), so changing any of
 * them rebuilds; the CLI, publishing and this file do not, nor does a newer
 * point release on the mirror (use --rebuild).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AptSource } from './apt-source.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const STAMP = 'rootfs.json';
/** Files and folders of this directory whose content ends up in (or decides) the tree. */
const TREE_INPUTS = ['overlay', 'rootfs.ts', 'overlay.ts'];

export interface Stamp {
  fingerprint: string;
  builtAt: string;
  sizeBytes: number;
  buildSeconds: number;
  kernelRelease: string;
  apt: AptSource;
}

export async function inputsFingerprint(inputs: { apt: AptSource; packages: readonly string[]; arch: string }): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ uri: inputs.apt.uri, suite: inputs.apt.suite, keyring: inputs.apt.keyring ?? null, packages: inputs.packages, arch: inputs.arch }));
  for (const file of await listFiles(HERE)) {
    const rel = relative(HERE, file);
    if (!TREE_INPUTS.some((input) => rel === input || rel.startsWith(`${input}/`))) continue;
    // The mode matters too: an overlay hook that lost its execute bit is a different template.
    hash.update(`\0${rel}\0${(await stat(file)).mode & 0o777}\0`);
    hash.update(await readFile(file));
  }
  return hash.digest('hex');
}

export async function readStamp(workDir: string): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await readFile(join(workDir, STAMP), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

export async function writeStamp(workDir: string, stamp: Stamp): Promise<void> {
  const tmp = join(workDir, `${STAMP}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(stamp, null, 2) + '\n');
  await rename(tmp, join(workDir, STAMP));
}

/** @private Every file below `dir`, sorted, so the hash does not depend on readdir order. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}
