import { describe, expect, it } from 'vitest';
import type { ProvisionEvent } from '../provision/server-client.ts';
import { applyEvent, emptyProgress, overallFraction, progressLines } from './progress.ts';

const MiB = 2 ** 20;

function fold(events: ProvisionEvent[]) {
  return events.reduce(applyEvent, emptyProgress());
}

describe('progress model', () => {
  it('weights the receive by its bytes and reaches 1 only when complete', () => {
    const early = fold([{ step: 'discover', state: 'done' }, { step: 'plan', state: 'done' }, { step: 'partition', state: 'done' }, { step: 'mkfs', state: 'done' }]);
    expect(overallFraction(early)).toBeCloseTo(0.12);
    const half = applyEvent(early, { step: 'receive', state: 'progress', bytes: 50 * MiB, totalBytes: 100 * MiB, rate: 10 * MiB });
    expect(overallFraction(half)).toBeCloseTo(0.5);
    const almost = fold([...['discover', 'plan', 'partition', 'mkfs', 'receive', 'deploy', 'bootloader'].map((step) => ({ step, state: 'done' }) as ProvisionEvent)]);
    expect(overallFraction(almost)).toBe(0.99);
    expect(overallFraction(applyEvent(almost, { step: 'complete', state: 'done' }))).toBe(1);
  });

  it('draws a gauge per step, the throughput sparkline, bytes and ETA, then the log', () => {
    const m = fold([
      { step: 'discover', state: 'done', message: '/dev/vda' },
      { step: 'receive', state: 'started' },
      { step: 'receive', state: 'progress', bytes: 10 * MiB, totalBytes: 40 * MiB, rate: 5 * MiB },
      { step: 'receive', state: 'progress', bytes: 20 * MiB, totalBytes: 40 * MiB, rate: 10 * MiB },
    ]);
    const lines = progressLines(m, 80, 21, { ascii: true });
    expect(lines[0]).toBe(`Overall    [${'#'.repeat(15)}${'-'.repeat(23)}] 40%`);
    expect(lines[2]).toBe(`discover   [${'#'.repeat(38)}] done`);
    expect(lines[6]).toBe(`receive    [${'#'.repeat(19)}${'-'.repeat(19)}] 50%`);
    expect(lines[4]).toBe(`partition  [${'-'.repeat(38)}]`);
    expect(lines[11]).toBe(`Throughput ${'+@'.padEnd(40)} 10.0 MiB/s`);
    expect(lines[12]).toBe('Received   20.0 MiB / 40.0 MiB  ETA 0:02');
    expect(lines.slice(14)).toEqual(['discover done: /dev/vda', 'receive started']);
  });

  it('marks a failed step and keeps its error', () => {
    const m = fold([{ step: 'mkfs', state: 'started' }, { step: 'mkfs', state: 'failed', error: 'Cannot run mkfs.btrfs: exit status 1' }]);
    expect(m.steps.mkfs).toEqual({ status: 'failed', message: 'Cannot run mkfs.btrfs: exit status 1' });
    expect(progressLines(m, 80, 25, { ascii: true }).find((l) => l.startsWith('mkfs'))).toMatch(/FAILED$/);
    expect(m.log.at(-1)).toBe('mkfs failed: Cannot run mkfs.btrfs: exit status 1');
  });
});
