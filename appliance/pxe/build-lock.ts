/**
 * One image build at a time per output directory, across processes: the
 * integration and e2e tests (separate vitest workers) may both ask for the
 * image on a fresh checkout, and two builds writing dist/pxe at once would
 * waste minutes of CPU and could mix their outputs. The second waits, then
 * finds the image up to date.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrowelError } from '../../src/errors.ts';

const POLL_MS = 1000;

/** Whether `pid` names a live process (pure apart from the signal-0 probe). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` holding `lockFile` (created with O_EXCL, holding our pid). A lock
 * whose process is gone is taken over; a live one is waited for, up to `timeoutMs`.
 */
export async function withBuildLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const text = await readFile(lockFile, 'utf8').catch(() => undefined);
    // An empty file is a lock being written this instant: wait for its pid.
    if (text !== undefined && text !== '' && !isAlive(Number(text))) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new TrowelError('EPXEBUILD', `Cannot build the PXE image: another build (pid ${text}) still holds ${lockFile}`);
    }
    await sleep(POLL_MS);
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}
