import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MachineStore, openDatabase } from './index.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('MachineStore', () => {
  it('recordContact creates once, then refreshes last_seen and keeps the token', () => {
    let t = 1000;
    const store = new MachineStore(openDatabase(':memory:'), () => t);
    const first = store.recordContact({ mac: '52:54:00:00:00:01', arch: 7, uuid: 'u-1' });
    t = 2000;
    const again = store.recordContact({ mac: '52:54:00:00:00:01', ip: '10.0.0.5' });
    expect(again).toMatchObject({ arch: 7, uuid: 'u-1', ip: '10.0.0.5', firstSeen: 1000, lastSeen: 2000, action: 'discover' });
    expect(again.token).toBe(first.token);
    expect(first.token).toMatch(/^[0-9a-f]{48}$/);
  });

  it('setAction changes the boot action and reports unknown machines', () => {
    const store = new MachineStore(openDatabase(':memory:'));
    store.recordContact({ mac: '52:54:00:00:00:02' });
    expect(store.setAction('52:54:00:00:00:02', 'local')).toBe(true);
    expect(store.get('52:54:00:00:00:02')?.action).toBe('local');
    expect(store.setAction('52:54:00:00:00:03', 'local')).toBe(false);
  });

  it('persists across reopen of the same file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trowel-store-'));
    dirs.push(dir);
    const file = join(dir, 'trowel.db');
    const a = openDatabase(file);
    new MachineStore(a).recordContact({ mac: '52:54:00:00:00:04', arch: 0 });
    a.close();
    expect(new MachineStore(openDatabase(file)).list().map((m) => m.mac)).toEqual(['52:54:00:00:00:04']);
  });
});
