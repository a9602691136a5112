/**
 * The demo template's apt source: parsing the host's apt configuration
 * (both formats, in apt's file order) and choosing the Debian main entry;
 * the inputs fingerprint that decides whether a build is reused. Pure or
 * on temp files; no root, no network.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseCodename, parseDeb822Sources, parseOneLineSources, pickDebianSource, readHostAptSource,
} from '../../appliance/demo-template/apt-source.ts';
import { inputsFingerprint } from '../../appliance/demo-template/stamp.ts';
import { TrowelError } from '../../src/errors.ts';

describe('parseOneLineSources', () => {
  it('reads type, options, URI, suite and components, skipping comments and blank lines', () => {
    const text = [
      '# a comment',
      '',
      'deb-src http://deb.example.org/debian bookworm main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/example.gpg] http://mirror.example.net/debian/ bookworm main contrib # trailing',
    ].join('\n');
    const entries = parseOneLineSources(text, '/etc/apt/sources.list');
    expect(entries).toEqual([
      { types: ['deb-src'], uris: ['http://deb.example.org/debian'], suites: ['bookworm'], components: ['main'], signedBy: undefined, enabled: true, origin: '/etc/apt/sources.list:3' },
      { types: ['deb'], uris: ['http://mirror.example.net/debian/'], suites: ['bookworm'], components: ['main', 'contrib'], signedBy: '/usr/share/keyrings/example.gpg', enabled: true, origin: '/etc/apt/sources.list:4' },
    ]);
  });

  it('drops a line whose option bracket is never closed, as apt refuses it', () => {
    expect(parseOneLineSources('deb [arch=amd64 http://x/debian bookworm main', 'f')).toEqual([]);
  });
});

describe('parseDeb822Sources', () => {
  it('reads every stanza with multi-value fields, Enabled and a keyring path', () => {
    const text = [
      'Types: deb deb-src',
      'URIs: http://one.example/debian http://two.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main non-free-firmware',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      '# disabled',
      'Types: deb',
      'URIs: http://off.example/debian',
      'Suites: bookworm',
      'Components: main',
      'Enabled: no',
    ].join('\n');
    const [first, second] = parseDeb822Sources(text, 'd.sources');
    expect(first).toEqual({
      types: ['deb', 'deb-src'], uris: ['http://one.example/debian', 'http://two.example/debian'],
      suites: ['bookworm', 'bookworm-updates'], components: ['main', 'non-free-firmware'],
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg', enabled: true, origin: 'd.sources:1',
    });
    expect(second?.enabled).toBe(false);
    expect(second?.origin).toBe('d.sources:8');
  });

  it('keeps no keyring for an inline key block, and folds its continuation lines into the field', () => {
    const text = [
      'Types: deb',
      'URIs: http://inline.example/debian',
      'Suites: bookworm',
      'Components: main',
      'Signed-By:',
      ' -----BEGIN PGP PUBLIC KEY BLOCK-----',
      ' .',
      ' mDMEZ...',
      ' -----END PGP PUBLIC KEY BLOCK-----',
    ].join('\n');
    const [entry] = parseDeb822Sources(text, 'k.sources');
    expect(entry?.signedBy).toBeUndefined();
    expect(entry?.uris).toEqual(['http://inline.example/debian']);
    expect(entry?.components).toEqual(['main']);
  });
});

describe('pickDebianSource', () => {
  const entry = (over: Partial<ReturnType<typeof parseOneLineSources>[number]>) => ({
    types: ['deb'], uris: ['http://m.example/debian'], suites: ['bookworm'], components: ['main'], signedBy: undefined, enabled: true, origin: 'x:1', ...over,
  });

  it('skips deb-src, disabled entries, other suites (security, third party) and entries without main', () => {
    const entries = [
      entry({ types: ['deb-src'], uris: ['http://src.example/debian'] }),
      entry({ enabled: false, uris: ['http://off.example/debian'] }),
      entry({ suites: ['bookworm-security'], uris: ['http://security.example/debian-security'] }),
      entry({ suites: ['nodistro'], uris: ['https://deb.nodesource.example/node_20.x'] }),
      entry({ components: ['contrib'], uris: ['http://contrib.example/debian'] }),
      entry({ uris: ['http://chosen.example/debian'], signedBy: '/k.gpg', origin: 'chosen:3' }),
      entry({ uris: ['http://later.example/debian'] }),
    ];
    expect(pickDebianSource(entries, 'bookworm')).toEqual({ uri: 'http://chosen.example/debian', suite: 'bookworm', keyring: '/k.gpg', origin: 'chosen:3' });
  });

  it('returns undefined when no entry is for the host release', () => {
    expect(pickDebianSource([entry({ suites: ['trixie'] })], 'bookworm')).toBeUndefined();
  });
});

describe('parseCodename', () => {
  it('reads VERSION_CODENAME, quoted or not', () => {
    expect(parseCodename('NAME="Debian GNU/Linux"\nVERSION_CODENAME=bookworm\n')).toBe('bookworm');
    expect(parseCodename('VERSION_CODENAME="trixie"\n')).toBe('trixie');
    expect(parseCodename('ID=debian\n')).toBeUndefined();
  });
});

describe('readHostAptSource', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'trowel-apt-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function aptRoot(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(root, name);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return dir;
  }

  it('reads sources.list before sources.list.d, whose files go in name order, ignoring other names', async () => {
    const dir = await aptRoot('order', {
      'etc/os-release': 'VERSION_CODENAME=bookworm\n',
      'etc/apt/sources.list': '# empty but for a comment\n',
      'etc/apt/sources.list.d/b.sources': 'Types: deb\nURIs: http://b.example/debian\nSuites: bookworm\nComponents: main\n',
      'etc/apt/sources.list.d/a.list': 'deb http://a.example/debian bookworm main\n',
      'etc/apt/sources.list.d/0.list.disabled': 'deb http://disabled.example/debian bookworm main\n',
      'etc/apt/sources.list.d/0.save': 'deb http://save.example/debian bookworm main\n',
    });
    const source = await readHostAptSource(dir);
    expect(source).toEqual({ uri: 'http://a.example/debian', suite: 'bookworm', keyring: undefined, origin: join(dir, 'etc/apt/sources.list.d/a.list:1') });
  });

  it('takes sources.list first when it has the entry', async () => {
    const dir = await aptRoot('list-first', {
      'etc/os-release': 'VERSION_CODENAME=bookworm\n',
      'etc/apt/sources.list': 'deb http://first.example/debian bookworm main\n',
      'etc/apt/sources.list.d/a.list': 'deb http://a.example/debian bookworm main\n',
    });
    expect((await readHostAptSource(dir)).uri).toBe('http://first.example/debian');
  });

  it('fails with ENOAPTSOURCE and a hint naming the release when nothing matches', async () => {
    const dir = await aptRoot('none', {
      'etc/os-release': 'VERSION_CODENAME=bookworm\n',
      'etc/apt/sources.list.d/x.list': 'deb http://x.example/debian trixie main\n',
    });
    const err = await readHostAptSource(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrowelError);
    expect((err as TrowelError).code).toBe('ENOAPTSOURCE');
    expect((err as TrowelError).message).toBe("Cannot find a Debian mirror in the host's apt configuration: no deb entry for bookworm with component main");
    expect((err as TrowelError).hint).toContain('Suites: bookworm');
  });

  it('fails with ENOAPTSOURCE on a host without a release codename', async () => {
    const dir = await aptRoot('no-os-release', { 'etc/apt/sources.list': 'deb http://x.example/debian bookworm main\n' });
    await expect(readHostAptSource(dir)).rejects.toMatchObject({ code: 'ENOAPTSOURCE' });
  });
});

describe('inputsFingerprint', () => {
  const apt = { uri: 'http://m.example/debian', suite: 'bookworm', keyring: undefined, origin: 'x:1' };
  it('is stable for the same inputs and changes with the mirror, the suite or the package list, not the origin', async () => {
    const base = await inputsFingerprint({ apt, packages: ['a', 'b'], arch: 'amd64' });
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await inputsFingerprint({ apt: { ...apt, origin: 'elsewhere:9' }, packages: ['a', 'b'], arch: 'amd64' })).toBe(base);
    expect(await inputsFingerprint({ apt: { ...apt, uri: 'http://other.example/debian' }, packages: ['a', 'b'], arch: 'amd64' })).not.toBe(base);
    expect(await inputsFingerprint({ apt: { ...apt, suite: 'trixie' }, packages: ['a', 'b'], arch: 'amd64' })).not.toBe(base);
    expect(await inputsFingerprint({ apt, packages: ['a'], arch: 'amd64' })).not.toBe(base);
  });
});
