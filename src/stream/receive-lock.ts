/**
 * One receive at a time per target subvolume: a lock file beside it
 * (`.<subvolume>.receiving`, created exclusively, holding the owner's pid).
 * A lock whose process is gone marks a receive that crashed: the caller
 * then knows a subvolume at the target is a partial leftover, not someone
 * else's transfer in progress.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { TrowelError } from '../errors.ts';

export interface ReceiveLock {
  /** True when a crashed receive's lock was taken over. */
  stale: boolean;
  release(): Promise<void>;
}

export function lockPathFor(intoDir: string, subvolume: string): string {
  return `${intoDir}/.${subvolume}.receiving`;
}

export async function acquireReceiveLock(path: string, what: string): Promise<ReceiveLock> {
  let stale = false;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644);
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return { stale, release: () => rm(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new TrowelError('EBUSY', `Cannot receive ${what}: process ${pid} is receiving it already`, { hint: `if it is not, remove ${path}` });
    }
    await rm(path, { force: true });
    stale = true;
  }
  throw new TrowelError('EBUSY', `Cannot receive ${what}: another receive keeps taking ${path}`);
}

/** @private Signal 0 checks existence; EPERM means it exists under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
