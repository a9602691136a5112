import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireReceiveLock, lockPathFor } from './receive-lock.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trowel-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acquireReceiveLock', () => {
  it('names the lock after the subvolume, hidden beside it', () => {
    expect(lockPathFor('/pool', '@template:org.example.A:x86_64:20260101T000000Z')).toBe('/pool/.@template:org.example.A:x86_64:20260101T000000Z.receiving');
  });

  it('takes a free lock with this pid and releases it', async () => {
    const path = join(dir, '.x.receiving');
    const lock = await acquireReceiveLock(path, 'x');
    expect(lock.stale).toBe(false);
    expect(await readFile(path, 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
    await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses while the owner is alive', async () => {
    const path = join(dir, '.x.receiving');
    await writeFile(path, `${process.pid}\n`);
    await expect(acquireReceiveLock(path, 'org.example.A x86_64 20260101T000000Z')).rejects.toMatchObject({
      code: 'EBUSY',
      message: `Cannot receive org.example.A x86_64 20260101T000000Z: process ${process.pid} is receiving it already`,
    });
  });

  it('takes over the lock of a process that is gone and says so', async () => {
    const path = join(dir, '.x.receiving');
    const gone = spawnSync('true').pid!; // exited and reaped: its pid names no process (unless reused at once)
    await writeFile(path, `${gone}\n`);
    const lock = await acquireReceiveLock(path, 'x');
    expect(lock.stale).toBe(true);
    expect(await readFile(path, 'utf8')).toBe(`${process.pid}\n`);
  });
});
