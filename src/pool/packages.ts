/**
 * The Debian packages installed in a template, read from its
 * /var/lib/dpkg/status, and the difference between two templates, for
 * release notes. The status file is deb822 (deb822(5)): paragraphs
 * separated by blank lines, `Field: value` lines, continuation lines
 * starting with a space or tab, field names case-insensitive.
 */
import { open, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { TrowelError } from '../errors.ts';

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
}

export interface PackageChange {
  name: string;
  arch: string;
  from: string;
  to: string;
}

export interface PackageDiff {
  added: InstalledPackage[];
  removed: InstalledPackage[];
  changed: PackageChange[];
}

export const DPKG_STATUS = 'var/lib/dpkg/status';

/** A status file is a few MiB even on a full desktop; anything far larger is not one. */
const MAX_STATUS_BYTES = 64 * 1024 * 1024;

/**
 * States in which a package's files are unpacked and configured
 * (dpkg-query(1), "Package states"); "triggers-*" only wait for another
 * package's trigger. config-files, half-installed, unpacked and
 * half-configured packages are not in the list.
 */
const INSTALLED_STATES = new Set(['installed', 'triggers-awaited', 'triggers-pending']);

/** Installed packages, sorted by name then arch. Paragraphs without Package or Version are skipped. */
export function parseDpkgStatus(text: string): InstalledPackage[] {
  const packages: InstalledPackage[] = [];
  for (const paragraph of text.replace(/\r\n/g, '\n').split(/\n(?:[ \t]*\n)+/)) {
    const fields = parseParagraph(paragraph);
    const name = fields.get('package');
    const version = fields.get('version');
    const state = fields.get('status')?.split(/\s+/)[2];
    if (!name || !version || state === undefined || !INSTALLED_STATES.has(state)) continue;
    packages.push({ name, version, arch: fields.get('architecture') ?? 'all' });
  }
  return packages.sort(byNameThenArch);
}

/**
 * What changed from `parent` to `child`. A package is identified by name
 * and arch, as dpkg does for Multi-Arch: same packages (libc6:amd64 and
 * libc6:i386 are two packages); one that moved to another arch shows as
 * removed and added.
 */
export function diffPackages(parent: readonly InstalledPackage[], child: readonly InstalledPackage[]): PackageDiff {
  const before = new Map(parent.map((p) => [`${p.name}:${p.arch}`, p]));
  const after = new Map(child.map((p) => [`${p.name}:${p.arch}`, p]));
  const added = [...after].filter(([key]) => !before.has(key)).map(([, p]) => p);
  const removed = [...before].filter(([key]) => !after.has(key)).map(([, p]) => p);
  const changed: PackageChange[] = [];
  for (const [key, p] of after) {
    const old = before.get(key);
    if (old && old.version !== p.version) changed.push({ name: p.name, arch: p.arch, from: old.version, to: p.version });
  }
  return { added: added.sort(byNameThenArch), removed: removed.sort(byNameThenArch), changed: changed.sort(byNameThenArch) };
}

/**
 * The packages installed in the tree at `root`, or undefined when it has no
 * dpkg database. Symlinks are resolved and must stay inside the tree: a
 * template whose /var/lib/dpkg/status points elsewhere must not make the
 * server read a file of its own host (TrowelError EOUTSIDE).
 */
export async function readTemplatePackages(root: string): Promise<InstalledPackage[] | undefined> {
  let path: string;
  let top: string;
  try {
    top = await realpath(root);
    path = await realpath(join(root, DPKG_STATUS));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
  if (!path.startsWith(top + sep)) {
    throw new TrowelError('EOUTSIDE', `Cannot read the package list: ${DPKG_STATUS} in ${root} leads outside the template`);
  }
  const handle = await open(path, 'r');
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > MAX_STATUS_BYTES) {
      throw new TrowelError('EBADSTATUS', `Cannot read the package list: ${path} is not a dpkg status file`);
    }
    return parseDpkgStatus(await handle.readFile('utf8'));
  } finally {
    await handle.close();
  }
}

/** @private Field names lowercased; continuation lines appended (only the first line matters here). */
function parseParagraph(paragraph: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of paragraph.split('\n')) {
    if (line === '' || line.startsWith(' ') || line.startsWith('\t') || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return fields;
}

/** @private */
function byNameThenArch(a: { name: string; arch: string }, b: { name: string; arch: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0;
}
