/**
 * The terminal descriptions carried inside the single binary, put where
 * blessed can read them. Only the bundle calls this: its build
 * (appliance/blessed-bundle.ts) makes blessed's tput.js search the returned
 * directory after the system's, and read its own fallback entries from it
 * (from sources, blessed finds those in node_modules/blessed/usr).
 *
 * Files, not memory: blessed looks terminals up with stat/readdir/readFile.
 * The directory is private (mkdtemp) and removed when the process exits.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * Writes each entry ("x/xterm" -> base64 of the compiled entry) twice: in
 * the terminfo layout (<dir>/x/xterm) for the search, and flat (<dir>/xterm)
 * where blessed's fallbacks look. Returns the directory, or '' when no
 * temporary directory can be written (blessed then falls back as it would).
 */
export function installTerminfo(entries: Record<string, string>, parent: string = tmpdir()): string {
  let dir: string;
  try {
    dir = mkdtempSync(join(parent, 'trowel-terminfo-'));
  } catch {
    return '';
  }
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const [key, base64] of Object.entries(entries)) {
    const data = Buffer.from(base64, 'base64');
    mkdirSync(join(dir, dirname(key)), { recursive: true });
    writeFileSync(join(dir, key), data);
    writeFileSync(join(dir, basename(key)), data);
  }
  return dir;
}
