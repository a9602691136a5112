import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive, withBuildLock } from './build-lock.ts';

describe('withBuildLock', () => {
  let dir: string;
  let lock: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trowel-lock-'));
    lock = join(dir, '.build.lock');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('withBuildLock runs holders one after the other and removes the lock', async () => {
    const events: string[] = [];
    const holder = (name: string) => withBuildLock(lock, async () => {
      events.push(`${name} in`);
      await sleep(1200);
      events.push(`${name} out`);
      return name;
    });
    expect(await Promise.all([holder('a'), holder('b')])).toEqual(['a', 'b']);
    expect(events).toEqual(['a in', 'a out', 'b in', 'b out']);
    expect(existsSync(lock)).toBe(false);
  });

  it('withBuildLock takes over a lock whose process is gone', async () => {
    // pid 2^22 + 1 is above Linux's pid_max limit, so no process has it.
    await writeFile(lock, String(2 ** 22 + 1));
    expect(await withBuildLock(lock, async () => 'ran')).toBe('ran');
  });

  it('withBuildLock gives up on a live holder after the timeout, naming it', async () => {
    await writeFile(lock, String(process.pid));
    await expect(withBuildLock(lock, async () => 'ran', 50)).rejects.toThrow(`another build (pid ${process.pid}) still holds`);
    expect(existsSync(lock)).toBe(true);
  });

  it('withBuildLock releases the lock when the build throws', async () => {
    await expect(withBuildLock(lock, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });
});

describe('isAlive', () => {
  it('isAlive is true for this process and false for impossible pids', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(0)).toBe(false);
    expect(isAlive(Number.NaN)).toBe(false);
    expect(isAlive(2 ** 22 + 1)).toBe(false);
  });
});
