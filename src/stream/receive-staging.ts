/**
 * Where a receive lands before it is verified: a hidden subvolume beside the
 * target, `.receiving.<pid>.<random>` (the send-stream guard renames the
 * stream's subvolume to it). It is not a template name, so a pool never
 * lists or serves it; once verified it is renamed (same directory, so a
 * read-only subvolume may move) to its template name. A receive that
 * crashed leaves its staging subvolume behind: the next receive into the
 * same directory removes those whose process is gone.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { deleteSubvolume, isSubvolume } from '../sys/btrfs.ts';

export const STAGING_PREFIX = '.receiving.';

export function stagingName(pid = process.pid): string {
  return `${STAGING_PREFIX}${pid}.${randomBytes(6).toString('hex')}`;
}

/** The pid a staging name belongs to, or undefined for any other name. */
export function stagingOwner(name: string): number | undefined {
  const m = /^\.receiving\.(\d+)\.[0-9a-f]+$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Removes staging subvolumes (or plain leftovers) whose receiving process no longer exists; returns their paths. */
export async function removeStaleStaging(intoDir: string, log: Logger): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(intoDir)) {
    const pid = stagingOwner(entry);
    if (pid === undefined || isAlive(pid)) continue;
    const path = join(intoDir, entry);
    if (await isSubvolume(path)) await deleteSubvolume(path);
    else await rm(path, { recursive: true, force: true });
    log.warn('partial_removed', { path, pid });
    removed.push(path);
  }
  return removed;
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
