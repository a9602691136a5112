import { chmod, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/sys/run.ts';
import { treeSnapshot } from '../helpers/tree-snapshot.ts';

describe('treeSnapshot', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function sample(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'trowel-tree-'));
    dirs.push(d);
    await mkdir(join(d, 'etc'));
    await writeFile(join(d, 'etc/a'), 'alpha');
    await link(join(d, 'etc/a'), join(d, 'etc/a-hard'));
    await symlink('a', join(d, 'etc/a-sym'));
    await chmod(join(d, 'etc/a'), 0o640);
    await run('setfattr', ['-n', 'user.trowel', '-v', 'yes', join(d, 'etc/a')]);
    return d;
  }

  it('describes contents, modes, links and xattrs, and sees every kind of difference', async () => {
    const a = await sample();
    const b = await sample();
    const snap = await treeSnapshot(a);
    expect(snap['etc/a']).toMatchObject({ type: 'f', mode: '640', size: 5, xattrs: { 'user.trowel': '0x796573' } });
    expect(snap['etc/a-hard']!.hardlinkOf).toBe('etc/a');
    expect(snap['etc/a-sym']).toMatchObject({ type: 'l', target: 'a' });
    expect(await treeSnapshot(b)).toEqual(snap);

    await run('setfattr', ['-x', 'user.trowel', join(b, 'etc/a')]);
    expect(await treeSnapshot(b)).not.toEqual(snap);
    await run('setfattr', ['-n', 'user.trowel', '-v', 'yes', join(b, 'etc/a')]);
    await chmod(join(b, 'etc/a'), 0o644);
    expect(await treeSnapshot(b)).not.toEqual(snap);
    await chmod(join(b, 'etc/a'), 0o640);
    await writeFile(join(b, 'etc/a'), 'alphA');
    expect(await treeSnapshot(b)).not.toEqual(snap);
  });
});
