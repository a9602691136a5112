import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/machines.ts';
import { templateCommand } from '../../src/cli/template.ts';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { isSubvolume, showSubvolume } from '../../src/sys/btrfs.ts';
import { SCRUB_HOOK, makeTemplateTree } from '../helpers/template-tree.ts';

async function cli(...argv: string[]) {
  const io = { out: '', err: '', env: {}, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) } satisfies CommandIo & { out: string; err: string };
  const code = await templateCommand(argv, io);
  return { code, out: io.out, err: io.err };
}

const VERSION = /^\d{8}T\d{6}Z$/;

describe('trowel template on a loop btrfs', () => {
  let fs: LoopBtrfs;
  let work: string;
  let source: string;
  let stateDir: string;
  const published: string[] = [];

  beforeAll(async () => {
    fs = await createLoopBtrfs(256);
    stateDir = join(fs.mountpoint, 'state');
    work = await mkdtemp(join(tmpdir(), 'trowel-template-cli-'));
    source = join(work, 'rootfs');
    await makeTemplateTree(source, { hooks: { '10-scrub': { body: SCRUB_HOOK, mode: 0o755 } } });
  });
  afterAll(async () => {
    await fs?.destroy();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('publish --from DIR prints the steps on stderr and the version on stdout', async () => {
    const { code, out, err } = await cli('publish', '--name', 'org.example.Desktop', '--arch', 'x86_64', '--from', source, '--pool', join(fs.mountpoint, 'pool'));
    expect(code).toBe(0);
    expect(err).toMatch(/^ {2}copying .*\n {2}running prepare hook 10-scrub\n/);
    const [head, ...fields] = out.trimEnd().split('\n');
    const version = head!.split(' ')[2]!;
    expect(head).toBe(`org.example.Desktop x86_64 ${version}`);
    expect(version).toMatch(VERSION);
    expect(fields.map((f) => f.trim().split(/\s+/)[0])).toEqual(['parent', 'size', 'published', 'source', 'path']);
    expect(out).toContain(`  source     dir:${source}\n`);
    const path = join(fs.mountpoint, 'pool', `@template:org.example.Desktop:x86_64:${version}`);
    expect(out).toContain(`  path       ${path}\n`);
    expect((await showSubvolume(path)).readonly).toBe(true);
    published.push(version);
  });

  it('publish with --state-dir uses <state-dir>/pool, creating it; --json prints the version', async () => {
    // A state dir on btrfs without a pool yet: the pool subvolume is created on first use.
    await mkdir(stateDir);
    const { code, out, err } = await cli('publish', '--name', 'org.example.Desktop', '--arch', 'x86_64', '--from', source, '--state-dir', stateDir, '--json');
    expect(code).toBe(0);
    expect(err).toBe(`  copying ${source}\n  running prepare hook 10-scrub\n  measuring\n  published org.example.Desktop x86_64 ${JSON.parse(out).version}\n`);
    const version = JSON.parse(out);
    expect(version).toMatchObject({ name: 'org.example.Desktop', arch: 'x86_64', parent: null, source: `dir:${source}`, path: join(stateDir, 'pool', `@template:org.example.Desktop:x86_64:${version.version}`) });
    expect(await isSubvolume(join(stateDir, 'pool'))).toBe(true);
  });

  describe('on one pool', () => {
    const pool = () => ['--pool', join(fs.mountpoint, 'pool')];

    beforeAll(async () => {
      await writeFile(join(source, 'etc/motd'), 'second\n');
      for (let i = 0; i < 2; i++) {
        const { code, out, err } = await cli('publish', '--name', 'org.example.Desktop', '--arch', 'x86_64', '--from', source, '--json', ...pool());
        expect({ code, err }).toMatchObject({ code: 0 });
        published.push(JSON.parse(out).version);
      }
      const arm = await cli('publish', '--name', 'org.example.Desktop', '--arch', 'aarch64', '--subvolume', join(fs.mountpoint, 'pool', `@template:org.example.Desktop:x86_64:${published[0]}`), ...pool());
      expect(arm.code).toBe(0);
    });

    it('list prints one group per name and arch, newest first', async () => {
      const { code, out, err } = await cli('list', ...pool());
      expect({ code, err }).toEqual({ code: 0, err: '' });
      const lines = out.split('\n');
      expect(lines[0]).toBe('org.example.Desktop (aarch64)');
      expect(lines[1]).toMatch(/^ {2}VERSION +SIZE +PARENT +PUBLISHED$/);
      const x86 = lines.indexOf('org.example.Desktop (x86_64)');
      expect(x86).toBeGreaterThan(0);
      const rows = lines.slice(x86 + 2).filter((l) => l !== '').map((l) => l.trim().split(/\s{2,}/));
      expect(rows.map((r) => [r[0], r[2]])).toEqual([
        [published[2], published[1]],
        [published[1], published[0]],
        [published[0], '-'],
      ]);
      for (const line of lines) expect(line.length).toBeLessThan(80);
    });

    it('list --json and --arch filter', async () => {
      const { out } = await cli('list', '--arch', 'aarch64', '--json', ...pool());
      const versions = JSON.parse(out);
      expect(versions).toHaveLength(1);
      expect(versions[0]).toMatchObject({ arch: 'aarch64', parent: null, source: expect.stringMatching(/^subvolume:/) });
    });

    it('show prints every version of a name', async () => {
      const { code, out } = await cli('show', 'org.example.Desktop', '--arch', 'x86_64', ...pool());
      expect(code).toBe(0);
      expect(out.split('\n').filter((l) => l.startsWith('org.example.Desktop x86_64 '))).toEqual(published.slice().reverse().map((v) => `org.example.Desktop x86_64 ${v}`));
      const missing = await cli('show', 'org.example.Nothing', ...pool());
      expect(missing).toEqual({ code: 1, out: '', err: 'trowel: Cannot show org.example.Nothing: the pool has no versions of it (see trowel template list)\n' });
    });

    it('rm refuses a parent, then removes it with --force', async () => {
      const refused = await cli('rm', 'org.example.Desktop', 'x86_64', published[0]!, ...pool());
      expect(refused.code).toBe(1);
      expect(refused.err).toBe(`trowel: Cannot remove org.example.Desktop x86_64 ${published[0]}: it is the parent of ${published[1]} (remove those first, or use --force)\n`);
      const forced = await cli('rm', 'org.example.Desktop', 'x86_64', published[0]!, '--force', ...pool());
      expect(forced).toEqual({ code: 0, out: `removed org.example.Desktop x86_64 ${published[0]}\n`, err: '' });
      const again = await cli('rm', 'org.example.Desktop', 'x86_64', published[0]!, ...pool());
      expect(again.err).toMatch(/^trowel: Cannot remove .*: no such version in the pool/);
    });

    it('gc --keep 1 keeps the newest and its parent', async () => {
      const more = await cli('publish', '--name', 'org.example.Desktop', '--arch', 'x86_64', '--from', source, '--json', ...pool());
      published.push(JSON.parse(more.out).version);
      const { code, out } = await cli('gc', '--keep', '1', '--name', 'org.example.Desktop', '--arch', 'x86_64', ...pool());
      expect(code).toBe(0);
      expect(out).toBe(`removed org.example.Desktop x86_64 ${published[1]}\n`);
      const left = (await readdir(join(fs.mountpoint, 'pool'))).filter((e) => e.includes(':x86_64:')).sort();
      expect(left).toEqual([published[2], published[3]].map((v) => `@template:org.example.Desktop:x86_64:${v}`));
      expect((await cli('gc', '--keep', '1', ...pool())).out).toMatch(/^nothing to remove/);
    });

    it('bad names and versions fail in one line', async () => {
      expect(await cli('publish', '--name', '../../etc/passwd', '--arch', 'x86_64', '--from', source, ...pool())).toEqual({
        code: 1, out: '', err: 'trowel: Cannot use template name "../../etc/passwd": it may contain only ASCII letters, digits, "-" and "." (a template name is <namespace>.<Identifier>, e.g. org.example.Desktop)\n',
      });
      expect((await cli('rm', 'org.example.Desktop', 'x86_64', 'latest', ...pool())).err).toMatch(/^trowel: Cannot use version "latest": /);
    });
  });
});
