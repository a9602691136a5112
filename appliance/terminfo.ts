/**
 * The terminal descriptions the single binary carries, so `trowel top` and
 * `trowel tui` draw correctly where no terminfo database exists (the PXE
 * image has none) and where blessed cannot read the one that does.
 *
 * blessed reads only the legacy compiled format (magic 0432, 16-bit
 * numbers). ncurses 6 writes entries whose numbers do not fit 16 bits
 * (xterm-256color has pairs#0x10000) in the extended-number format (magic
 * 01036, 32-bit numbers), which blessed misreads. toLegacyTerminfo rewrites
 * such an entry the way ncurses itself reads it through the legacy API:
 * every number clamped to 32767. Layout per term(5).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The PXE console (linux), a serial console (vt100, vt102), and what technicians run trowel top in. */
export const BUNDLED_TERMINALS = ['linux', 'vt100', 'vt102', 'vt220', 'xterm', 'xterm-256color', 'screen', 'screen-256color', 'tmux', 'tmux-256color'] as const;

const LEGACY_MAGIC = 0o432;
const NUMBERS32_MAGIC = 0o1036;
const HEADER = 12;
const EXT_HEADER = 10;
const MAX_SHORT = 0x7fff;

/** Where ncurses keeps compiled entries on Debian (ncurses-base, ncurses-term). */
export const HOST_TERMINFO_DIRS = ['/etc/terminfo', '/lib/terminfo', '/usr/share/terminfo'];

/**
 * The named entries from the host, in the legacy format, keyed as they sit
 * in a terminfo directory ("x/xterm"). A name the host lacks is an error:
 * the build must not ship a binary that silently cannot draw on a console.
 */
export function readHostTerminfo(names: readonly string[] = BUNDLED_TERMINALS, dirs: readonly string[] = HOST_TERMINFO_DIRS): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const name of names) {
    const key = `${name[0]}/${name}`;
    const file = dirs.map((d) => join(d, key)).find((f) => existsSync(f));
    if (!file) throw new Error(`Cannot bundle the terminfo entry ${name}: not found in ${dirs.join(', ')} (install ncurses-base and ncurses-term)`);
    out[key] = toLegacyTerminfo(readFileSync(file));
  }
  return out;
}

/** A compiled terminfo entry in the legacy format; one already in it is returned as is. */
export function toLegacyTerminfo(data: Buffer): Buffer {
  const magic = data.readUInt16LE(0);
  if (magic === LEGACY_MAGIC) return data;
  if (magic !== NUMBERS32_MAGIC) throw new Error(`Cannot convert the terminfo entry: magic ${magic.toString(8)} is neither 0432 nor 01036`);

  const [names, bools, nums, strs, strTable] = [1, 2, 3, 4, 5].map((i) => data.readUInt16LE(i * 2)) as [number, number, number, number, number];
  const parts: Buffer[] = [];
  const header = Buffer.from(data.subarray(0, HEADER));
  header.writeUInt16LE(LEGACY_MAGIC, 0);
  parts.push(header);

  let at = HEADER;
  // Names and booleans, then a pad byte so the numbers start on an even offset.
  const boolsEnd = at + names + bools + ((names + bools) % 2);
  parts.push(data.subarray(at, boolsEnd));
  at = boolsEnd;
  parts.push(shortNumbers(data, at, nums));
  at += nums * 4;
  const tablesEnd = at + strs * 2 + strTable;
  parts.push(data.subarray(at, tablesEnd));
  at = tablesEnd;

  // The extended section (user-defined capabilities), if any, starts on an even offset.
  if (at % 2 === 1 && at < data.length) {
    parts.push(data.subarray(at, at + 1));
    at += 1;
  }
  if (at + EXT_HEADER <= data.length) {
    const [extBools, extNums] = [data.readUInt16LE(at), data.readUInt16LE(at + 2)];
    const extBoolsEnd = at + EXT_HEADER + extBools + (extBools % 2);
    parts.push(data.subarray(at, extBoolsEnd));
    parts.push(shortNumbers(data, extBoolsEnd, extNums));
    parts.push(data.subarray(extBoolsEnd + extNums * 4));
  }
  return Buffer.concat(parts);
}

/** @private 32-bit numbers as 16-bit ones: -1 (absent) and -2 (cancelled) kept, the rest clamped. */
function shortNumbers(data: Buffer, at: number, count: number): Buffer {
  const out = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    const v = data.readInt32LE(at + i * 4);
    out.writeInt16LE(v < 0 ? Math.max(v, -2) : Math.min(v, MAX_SHORT), i * 2);
  }
  return out;
}
