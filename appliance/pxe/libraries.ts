/**
 * The shared libraries (and the program loader) a set of host programs
 * needs, found with ldd(1), so the initramfs carries exactly those.
 */
import { TrowelError } from '../../src/errors.ts';
import { run } from '../../src/sys/run.ts';

export interface LddResult {
  /** Absolute paths of the libraries and the loader, as the loader resolved them on the host. */
  paths: string[];
  /** Sonames ldd could not resolve ("libfoo.so.1 => not found"). */
  missing: string[];
}

/**
 * Parses ldd's output (pure). The vDSO has no file and is skipped; a static
 * program ("statically linked" / "not a dynamic executable") needs nothing.
 */
export function parseLdd(text: string): LddResult {
  const paths: string[] = [];
  const missing: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const arrow = /^(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      const [, soname, where] = arrow as unknown as [string, string, string];
      if (where === 'not found') missing.push(soname);
      else if (where.startsWith('/')) paths.push(where);
      continue;
    }
    // The loader itself is listed by absolute path without an arrow.
    const direct = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (direct) paths.push(direct[1]!);
  }
  return { paths, missing };
}

/**
 * The union of the libraries `programs` need, sorted. Throws when any
 * library is missing on the host (the image would not run the program).
 */
export async function sharedLibraries(programs: readonly string[]): Promise<string[]> {
  const all = new Set<string>();
  for (const program of programs) {
    // ldd exits 1 for a static program and prints "not a dynamic executable".
    const { stdout } = await run('ldd', [program], { okCodes: [0, 1] });
    const { paths, missing } = parseLdd(stdout);
    if (missing.length > 0) {
      throw new TrowelError('EPXEBUILD', `Cannot build the PXE image: ${program} needs ${missing.join(', ')}, not found on this host`);
    }
    for (const p of paths) all.add(p);
  }
  return [...all].sort();
}
