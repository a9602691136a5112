import { describe, expect, it } from 'vitest';
import { renderRun, summarizeRun, type EventView, type RunInput } from './provision-report.ts';

const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (s: number) => new Date(t0 + s * 1000).toISOString();
let id = 0;
const step = (s: number, name: string, state: string, extra: Partial<EventView> = {}): EventView => ({ id: ++id, at: iso(s), kind: 'step', step: name, state, ...extra });

const events: EventView[] = [
  step(60, 'discover', 'started'), step(61, 'discover', 'done'),
  { id: ++id, at: iso(62), kind: 'log', message: 'a log line' },
  step(62, 'plan', 'started'), step(63, 'plan', 'done'),
  step(63, 'receive', 'started'),
  step(70, 'receive', 'progress', { bytes: 1 }),
  step(83, 'receive', 'done', { bytes: 20 * 2 ** 20, rate: 2 ** 20 }),
  step(84, 'complete', 'done'),
  step(85, 'reboot', 'started'),
];
const run: RunInput = { firmware: 'bios', bus: 'virtio', mac: '52:54:00:00:00:01', powerOnAt: t0, markerAt: t0 + 145_000, marker: 'x', events };

describe('summarizeRun', () => {
  it('splits a run into the PXE phase, each step and the final boot', () => {
    const s = summarizeRun(run);
    expect(s.totalMs).toBe(145_000);
    expect(s.pxeMs).toBe(60_000);
    expect(s.finalBootMs).toBe(60_000);
    expect(s.steps).toEqual([{ step: 'discover', ms: 1000 }, { step: 'plan', ms: 1000 }, { step: 'receive', ms: 20_000 }]);
    expect(s.receive).toEqual({ bytes: 20 * 2 ** 20, ms: 20_000, bytesPerSecond: 2 ** 20, clientRate: 2 ** 20 });
  });

  it('refuses a run whose events lack the reboot', () => {
    expect(() => summarizeRun({ ...run, events: events.slice(0, -1) })).toThrow(/no reboot:started event/);
  });

  it('renders the receive throughput in MiB/s', () => {
    expect(renderRun(summarizeRun(run))).toContain('20.0 MiB at 1.0 MiB/s');
  });
});
