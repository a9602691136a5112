/**
 * Copies ./overlay into the template tree. Modes are decided here rather
 * than taken from the checkout (a checkout may lose execute bits): hooks
 * and scripts 0755, everything else 0644, directories 0755, all owned by
 * root.
 */
import { chmod, chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OVERLAY_DIR = join(dirname(fileURLToPath(import.meta.url)), 'overlay');

/** Directories whose files are programs. */
const EXECUTABLE_DIRS = ['etc/trowel/prepare.d/', 'etc/trowel/deploy.d/', 'usr/local/sbin/'];

export function overlayMode(relPath: string): number {
  return EXECUTABLE_DIRS.some((d) => relPath.startsWith(d)) ? 0o755 : 0o644;
}

/** The overlay's files, relative to it, sorted. */
export async function overlayFiles(): Promise<string[]> {
  const entries = await readdir(OVERLAY_DIR, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(OVERLAY_DIR, join(e.parentPath, e.name))).sort();
}

export async function copyOverlay(root: string): Promise<void> {
  for (const rel of await overlayFiles()) {
    const target = join(root, rel);
    // Every directory on the way is created by us or already part of the Debian tree; never a symlink out of it.
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, await readFile(join(OVERLAY_DIR, rel)));
    await chmod(target, overlayMode(rel));
    await chown(target, 0, 0);
  }
}
