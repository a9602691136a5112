/**
 * Housekeeping of the build directory: unfinished builds of processes that
 * are gone, and removing a tree that a killed debootstrap may have left
 * mounts in (it mounts /proc and /sys inside the target while it works).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/sys/run.ts';

/** `rootfs.build.<pid>` and `rootfs.old.<pid>` directories whose process is no longer running. */
export async function staleBuildDirs(workDir: string): Promise<string[]> {
  const names = await readdir(workDir).catch(() => [] as string[]);
  return names
    .filter((n) => {
      const pid = /^rootfs\.(build|old)\.(\d+)$/.exec(n)?.[2];
      return pid !== undefined && (Number(pid) === process.pid || !isAlive(Number(pid)));
    })
    .map((n) => join(workDir, n));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Unmounts whatever is mounted at or below `path` (deepest first), then deletes it without leaving its filesystem. */
export async function removeTree(path: string): Promise<void> {
  for (const mountpoint of await mountsBelow(path)) await run('umount', ['--lazy', mountpoint]);
  await run('rm', ['-rf', '--one-file-system', '--', path]);
}

/** @private Mount points below `path` from /proc/self/mountinfo (field 5, octal escapes decoded), deepest first. */
async function mountsBelow(path: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points = text.split('\n').map((line) => line.split(' ')[4]).filter((p) => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return points.filter((p) => p === path || p.startsWith(`${path}/`)).sort((a, b) => b.length - a.length);
}
