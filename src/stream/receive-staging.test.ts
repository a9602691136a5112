import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, LogLevel, type LogRecord } from '../log/logger.ts';
import { removeStaleStaging, stagingName, stagingOwner } from './receive-staging.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trowel-staging-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('staging names', () => {
  it('are hidden, carry the pid, and are told apart from everything else', () => {
    const name = stagingName(1234);
    expect(name).toMatch(/^\.receiving\.1234\.[0-9a-f]{12}$/);
    expect(stagingOwner(name)).toBe(1234);
    for (const other of ['@template:org.example.A:x86_64:20260101T000000Z', '.staging.1.ab', '.receiving.x.ab', '.receiving.12.ab/..']) {
      expect(stagingOwner(other)).toBeUndefined();
    }
  });
});

describe('removeStaleStaging', () => {
  it('removes leftovers of processes that are gone and keeps live ones and other entries', async () => {
    const gone = spawnSync('true').pid!; // exited and reaped
    const stale = stagingName(gone);
    const live = stagingName(process.pid);
    for (const name of [stale, live, '@template:org.example.A:x86_64:20260101T000000Z']) await mkdir(join(dir, name));
    const logs: LogRecord[] = [];
    const removed = await removeStaleStaging(dir, createLogger('t', (r) => logs.push(r), LogLevel.debug));
    expect(removed).toEqual([join(dir, stale)]);
    expect((await readdir(dir)).sort()).toEqual([live, '@template:org.example.A:x86_64:20260101T000000Z'].sort());
    expect(logs.map((l) => l.event)).toEqual(['partial_removed']);
  });
});
