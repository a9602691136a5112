import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeRequestPath, openInRoot, TftpRefusal } from './paths.ts';

function refusal(fn: () => unknown): TftpRefusal {
  try {
    fn();
  } catch (e) {
    if (e instanceof TftpRefusal) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('normalizeRequestPath', () => {
  it('strips leading slashes, empty and "." segments, and maps backslashes', () => {
    expect(normalizeRequestPath('pxelinux.0')).toBe('pxelinux.0');
    expect(normalizeRequestPath('/pxelinux.cfg/01-52-54-00-00-00-01')).toBe('pxelinux.cfg/01-52-54-00-00-00-01');
    expect(normalizeRequestPath('//boot/./grub//x')).toBe('boot/grub/x');
    expect(normalizeRequestPath('boot\\x64\\wdsnbp.com')).toBe('boot/x64/wdsnbp.com');
  });

  it('resolves a ".." that stays inside the root', () => {
    expect(normalizeRequestPath('a/b/../c')).toBe('a/c');
    expect(normalizeRequestPath('/a/../c')).toBe('c');
  });

  it('refuses traversal out of the root with access violation (2)', () => {
    for (const bad of ['../../etc/passwd', '/../etc/passwd', '..', 'a/../../b', '..\\..\\windows', '/./../x']) {
      const e = refusal(() => normalizeRequestPath(bad));
      expect(e.tftpCode, bad).toBe(2);
      expect(e.message).toMatch(/^Cannot read .*: the path leaves the TFTP root$/);
    }
  });

  it('refuses NUL bytes and names that are no file', () => {
    expect(refusal(() => normalizeRequestPath('a\0b')).tftpCode).toBe(2);
    expect(refusal(() => normalizeRequestPath('/')).tftpCode).toBe(1);
    expect(refusal(() => normalizeRequestPath('')).tftpCode).toBe(1);
  });
});

describe('openInRoot', () => {
  let base: string;
  let root: string;
  beforeAll(async () => {
    base = await realpath(await mkdtemp(join(tmpdir(), 'trowel-tftp-paths-')));
    root = join(base, 'root');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'sub', 'inside.txt'), 'inside');
    await writeFile(join(base, 'secret.txt'), 'secret');
    await symlink('sub/inside.txt', join(root, 'link-in'));
    await symlink('../secret.txt', join(root, 'link-out'));
    await symlink('/etc/passwd', join(root, 'link-abs'));
    await symlink(base, join(root, 'dir-out'));
    await symlink('sub', join(root, 'dir-in'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  async function read(relative: string): Promise<string> {
    const source = await openInRoot(root, relative, 4096);
    try {
      return (await source.read(4096)).toString();
    } finally {
      await source.close();
    }
  }

  async function code(relative: string): Promise<number> {
    const e = await openInRoot(root, relative, 4096).then(() => undefined, (err: unknown) => err);
    if (!(e instanceof TftpRefusal)) throw new Error(`expected a refusal for ${relative}, got ${String(e)}`);
    return e.tftpCode;
  }

  it('opens files and follows symlinks that stay inside the root', async () => {
    expect(await read('sub/inside.txt')).toBe('inside');
    expect(await read('link-in')).toBe('inside');
    expect(await read('dir-in/inside.txt')).toBe('inside');
  });

  it('refuses symlinks that lead out of the root with access violation (2)', async () => {
    expect(await code('link-out')).toBe(2);
    expect(await code('link-abs')).toBe(2);
    expect(await code('dir-out/secret.txt')).toBe(2);
  });

  it('answers file not found (1) for missing files, folders and FIFOs', async () => {
    expect(await code('missing')).toBe(1);
    expect(await code('sub/inside.txt/x')).toBe(1);
    expect(await code('sub')).toBe(1);
    expect(await code('fifo')).toBe(1);
  });
});
