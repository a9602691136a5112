/**
 * The Debian mirror the demo template is bootstrapped from, read from the
 * host's own apt configuration so a build uses whatever mirror (or proxy,
 * or snapshot) the host already trusts, never a hard-coded one.
 *
 * apt reads /etc/apt/sources.list, then /etc/apt/sources.list.d/*.list
 * (one-line format) and *.sources (deb822), in file-name order, and ignores
 * other names (sources.list(5)). The chosen entry is the first `deb` entry
 * of the host's release suite (VERSION_CODENAME in os-release(5)) that
 * carries the `main` component: that excludes -updates/-security pockets
 * and third-party repositories (their suites are other names).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrowelError } from '../../src/errors.ts';

export interface AptEntry {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  /** A keyring file from `signed-by` / `Signed-By:` when it names one (an inline key is not kept). */
  signedBy: string | undefined;
  enabled: boolean;
  /** Where it was read, `file:line`, for messages. */
  origin: string;
}

export interface AptSource {
  uri: string;
  suite: string;
  keyring: string | undefined;
  origin: string;
}

/** Parses the one-line format: `deb [opt=val ...] URI SUITE [COMPONENT...]`. */
export function parseOneLineSources(text: string, file: string): AptEntry[] {
  const entries: AptEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    let rest = line;
    const type = /^\S+/.exec(rest)?.[0] ?? '';
    rest = rest.slice(type.length).trim();
    const options = new Map<string, string>();
    if (rest.startsWith('[')) {
      const end = rest.indexOf(']');
      if (end < 0) return; // apt refuses such a line too
      for (const option of rest.slice(1, end).trim().split(/\s+/)) {
        const eq = option.indexOf('=');
        if (eq > 0) options.set(option.slice(0, eq).toLowerCase(), option.slice(eq + 1));
      }
      rest = rest.slice(end + 1).trim();
    }
    const [uri, suite, ...components] = rest.split(/\s+/);
    if (uri === undefined || suite === undefined) return;
    const signedBy = options.get('signed-by');
    entries.push({
      types: [type], uris: [uri], suites: [suite], components, enabled: true,
      signedBy: signedBy !== undefined && signedBy.startsWith('/') ? signedBy.split(',')[0] : undefined,
      origin: `${file}:${index + 1}`,
    });
  });
  return entries;
}

/** Parses the deb822 format: stanzas separated by blank lines, folded fields continue with a space. */
export function parseDeb822Sources(text: string, file: string): AptEntry[] {
  const entries: AptEntry[] = [];
  let fields = new Map<string, string>();
  let startLine = 0;
  let last: string | undefined;
  const flush = () => {
    if (fields.size > 0) entries.push(stanzaEntry(fields, `${file}:${startLine}`));
    fields = new Map();
    last = undefined;
  };
  text.split('\n').forEach((line, index) => {
    if (line.startsWith('#')) return;
    if (line.trim() === '') return flush();
    if (/^\s/.test(line)) {
      if (last !== undefined) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return;
    if (fields.size === 0) startLine = index + 1;
    last = line.slice(0, colon).trim().toLowerCase();
    fields.set(last, line.slice(colon + 1).trim());
  });
  flush();
  return entries;
}

/** @private */
function stanzaEntry(fields: Map<string, string>, origin: string): AptEntry {
  const words = (name: string) => (fields.get(name) ?? '').split(/\s+/).filter((w) => w !== '');
  const signedBy = fields.get('signed-by')?.trim();
  return {
    types: words('types'), uris: words('uris'), suites: words('suites'), components: words('components'),
    enabled: (fields.get('enabled') ?? 'yes').trim().toLowerCase() !== 'no',
    // Signed-By is either keyring paths or an inline armored key block.
    signedBy: signedBy !== undefined && signedBy.startsWith('/') && !signedBy.includes('\n') ? signedBy.split(/[\s,]+/)[0] : undefined,
    origin,
  };
}

/** The first enabled `deb` entry for `codename` with `main`; undefined when there is none. */
export function pickDebianSource(entries: readonly AptEntry[], codename: string): AptSource | undefined {
  for (const e of entries) {
    if (!e.enabled || !e.types.includes('deb') || !e.components.includes('main') || !e.suites.includes(codename)) continue;
    const uri = e.uris[0];
    if (uri !== undefined) return { uri, suite: codename, keyring: e.signedBy, origin: e.origin };
  }
  return undefined;
}

/** VERSION_CODENAME from an os-release(5) text, unquoted. */
export function parseCodename(osRelease: string): string | undefined {
  const value = /^VERSION_CODENAME=(.*)$/m.exec(osRelease)?.[1]?.trim().replace(/^(["'])(.*)\1$/, '$2');
  return value === undefined || value === '' ? undefined : value;
}

/** Reads the host's apt configuration under `root` (default /) and picks the Debian main source. */
export async function readHostAptSource(root = '/'): Promise<AptSource> {
  const osRelease = await readFile(join(root, 'etc/os-release'), 'utf8').catch(() => readFile(join(root, 'usr/lib/os-release'), 'utf8').catch(() => ''));
  const codename = parseCodename(osRelease);
  if (codename === undefined) {
    throw new TrowelError('ENOAPTSOURCE', 'Cannot find the Debian release to bootstrap: /etc/os-release has no VERSION_CODENAME', {
      hint: 'build the demo template on a Debian host',
    });
  }
  const entries: AptEntry[] = [];
  const list = join(root, 'etc/apt/sources.list');
  entries.push(...parseOneLineSources(await readFile(list, 'utf8').catch(() => ''), list));
  const dir = join(root, 'etc/apt/sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    // apt's own rule: only these names, made of letters, digits, _ - . (sources.list(5))
    if (!/^[A-Za-z0-9_.-]+\.(list|sources)$/.test(name)) continue;
    const path = join(dir, name);
    const text = await readFile(path, 'utf8').catch(() => '');
    entries.push(...(name.endsWith('.list') ? parseOneLineSources(text, path) : parseDeb822Sources(text, path)));
  }
  const source = pickDebianSource(entries, codename);
  if (source === undefined) {
    throw new TrowelError('ENOAPTSOURCE', `Cannot find a Debian mirror in the host's apt configuration: no deb entry for ${codename} with component main`, {
      hint: `add one to /etc/apt/sources.list.d/debian.sources (Types: deb, URIs: <mirror>, Suites: ${codename}, Components: main)`,
    });
  }
  return source;
}
