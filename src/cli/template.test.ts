import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TemplateVersion } from '../pool/index.ts';
import type { CommandIo } from './machines.ts';
import { formatBytes, formatList, formatVersion, templateCommand } from './template.ts';

function captureIo(): CommandIo & { out: string; err: string } {
  const io = { out: '', err: '', env: {}, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

const V2: TemplateVersion = {
  name: 'org.example.Desktop', arch: 'x86_64', version: '20261122T023710Z', parent: '20261121T101010Z',
  sizeBytes: 12_902_400, publishedAt: '2026-11-22T02:37:10.000Z', source: 'dir:/srv/rootfs',
  path: '/var/lib/trowel/pool/@template:org.example.Desktop:x86_64:20261122T023710Z',
};
const V1: TemplateVersion = { ...V2, version: '20261121T101010Z', parent: null, sizeBytes: 900, publishedAt: '2026-11-21T10:10:10.000Z' };
const ARM: TemplateVersion = { ...V1, arch: 'aarch64', sizeBytes: 3 * 1024 ** 3 };

describe('templateCommand usage errors (exit 2, nothing opened)', () => {
  it.each([
    [[], /missing subcommand/],
    [['frobnicate'], /unknown subcommand "frobnicate"/],
    [['publish', '--arch', 'x86_64', '--from', '/x'], /needs --name NAME/],
    [['publish', '--name', 'a.B', '--from', '/x'], /needs --arch ARCH/],
    [['publish', '--name', 'a.B', '--arch', 'x86_64'], /needs a source: --from DIR, --subvolume PATH or --lxc NAME/],
    [['publish', '--name', 'a.B', '--arch', 'x86_64', '--from', '/x', '--lxc', 'c'], /give one source, not --from and --lxc/],
    [['publish', '--name', 'a.B', '--arch', 'x86_64', '--from', '/x', '--lxc-path', '/l'], /--lxc-path goes with --lxc/],
    [['publish', '--name', 'a.B', '--arch', 'amd64', '--from', '/x'], /Cannot use arch "amd64"/],
    [['list', '--arch', 'X86_64'], /did you mean x86_64\?/],
    [['list', '--force'], /"template list" does not take --force/],
    [['list', 'extra'], /"template list" takes no arguments, not "extra"/],
    [['show'], /"template show" takes NAME/],
    [['rm', 'a.B', 'x86_64'], /"template rm" takes NAME ARCH VERSION/],
    [['gc'], /needs --keep N/],
    [['gc', '--keep', '0'], /--keep must be a whole number of at least 1, not "0"/],
    [['gc', '--keep', 'two'], /--keep must be a whole number/],
    [['list', '--bogus'], /Unknown option '--bogus'/],
  ])('%j', async (argv, why) => {
    const io = captureIo();
    expect(await templateCommand(argv, io)).toBe(2);
    expect(io.err).toMatch(why);
    expect(io.err).toMatch(/^trowel template: /);
    expect(io.err).toContain('usage: trowel template publish');
    expect(io.out).toBe('');
  });

  it('prints help on --help', async () => {
    const io = captureIo();
    expect(await templateCommand(['--help'], io)).toBe(0);
    expect(io.out).toMatch(/^usage: trowel template publish/);
    for (const line of io.out.split('\n')) expect(line.length).toBeLessThan(80);
  });
});

describe('templateCommand on a directory that is not btrfs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trowel-template-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('says so in one line and exits 1', async () => {
    const io = captureIo();
    expect(await templateCommand(['list', '--pool', dir], io)).toBe(1);
    expect(io.err).toMatch(new RegExp(`^trowel: Cannot open pool ${dir}: not a btrfs filesystem \\(.*btrfs.*\\)\\n$`));
  });

  it('defaults the pool to <state-dir>/pool', async () => {
    const io = captureIo();
    expect(await templateCommand(['list', '--state-dir', dir], io)).toBe(1);
    expect(io.err).toBe(`trowel: Cannot open pool ${join(dir, 'pool')}: it does not exist (create it on a btrfs filesystem with "btrfs subvolume create ${join(dir, 'pool')}", or give --pool DIR)\n`);
  });
});

describe('formatList', () => {
  it('groups by name and arch with one row per version, within 80 columns', () => {
    const text = formatList([ARM, V2, V1], '/pool');
    expect(text).toBe(
      'org.example.Desktop (aarch64)\n' +
        '  VERSION           SIZE     PARENT  PUBLISHED\n' +
        '  20261121T101010Z  3.0 GiB  -       2026-11-21 10:10 UTC\n' +
        '\n' +
        'org.example.Desktop (x86_64)\n' +
        '  VERSION           SIZE      PARENT            PUBLISHED\n' +
        '  20261122T023710Z  12.3 MiB  20261121T101010Z  2026-11-22 02:37 UTC\n' +
        '  20261121T101010Z  900 B     -                 2026-11-21 10:10 UTC\n',
    );
    for (const line of text.split('\n')) expect(line.length).toBeLessThan(80);
  });

  it('says how to start when the pool is empty', () => {
    expect(formatList([], '/pool')).toBe('No templates in /pool yet: publish one with "trowel template publish".\n');
  });
});

describe('formatVersion', () => {
  it('prints every field under the version', () => {
    expect(formatVersion(V2)).toBe(
      'org.example.Desktop x86_64 20261122T023710Z\n' +
        '  parent     20261121T101010Z\n' +
        '  size       12.3 MiB (12902400 bytes)\n' +
        '  published  2026-11-22 02:37 UTC\n' +
        '  source     dir:/srv/rootfs\n' +
        '  path       /var/lib/trowel/pool/@template:org.example.Desktop:x86_64:20261122T023710Z\n',
    );
    expect(formatVersion(V1)).toContain('  parent     - (first version)\n');
  });
});

describe('formatBytes', () => {
  it.each([[0, '0 B'], [1023, '1023 B'], [1024, '1.0 KiB'], [1536, '1.5 KiB'], [12_902_400, '12.3 MiB'], [5 * 1024 ** 4, '5.0 TiB'], [3 * 1024 ** 5, '3072.0 TiB']])('%d -> %s', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });
});
