import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { createSubvolume, deleteSubvolume, isSubvolume, receive, send, showSubvolume, snapshot } from '../../src/sys/btrfs.ts';

describe('btrfs wrapper on loop devices', () => {
  let a: LoopBtrfs;
  let b: LoopBtrfs;
  beforeAll(async () => {
    a = await createLoopBtrfs(256);
    b = await createLoopBtrfs(256);
  });
  afterAll(async () => {
    await a?.destroy();
    await b?.destroy();
  });

  it('snapshots read-only, sends, and receives into another filesystem', async () => {
    const src = join(a.mountpoint, '@src');
    await createSubvolume(src);
    await mkdir(join(src, 'etc'));
    await writeFile(join(src, 'etc/hostname'), 'template\n');
    const ro = join(a.mountpoint, '@ro');
    await snapshot(src, ro, { readonly: true });
    expect(await showSubvolume(ro)).toMatchObject({ readonly: true, name: '@ro' });

    const sender = send(ro);
    const receiver = receive(b.mountpoint);
    sender.child.stdout.pipe(receiver.child.stdin);
    await Promise.all([sender.done, receiver.done]);
    const received = await showSubvolume(join(b.mountpoint, '@ro'));
    expect(received.receivedUuid).toBe((await showSubvolume(ro)).uuid);
    expect(await readFile(join(b.mountpoint, '@ro/etc/hostname'), 'utf8')).toBe('template\n');

    await deleteSubvolume(src);
    expect(await isSubvolume(src)).toBe(false);
  });

  it('fails a receive of a truncated stream with the command and its stderr', async () => {
    const receiver = receive(b.mountpoint);
    receiver.child.stdin.end(Buffer.from('btrfs-stream\0\x01\0\0\0garbage'));
    await expect(receiver.done).rejects.toThrow(/^Cannot run btrfs receive -e .*: exit status 1/);
  });
});
