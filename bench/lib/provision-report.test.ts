import { describe, expect, it } from 'vitest';
import { parseWriteStage, renderRun, renderWriteStage, summarizeRun, type EventView, type RunInput } from './provision-report.ts';

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

describe('parseWriteStage', () => {
  const message = 'receive wrote 524288000 bytes in 100.0 s (5.2 MB/s, flush 2.5 s); dd wrote 524288000 bytes in 50.0 s (10.5 MB/s); ratio 0.50';

  it('reads the rates and the ratio the client reported', () => {
    expect(parseWriteStage(message)).toEqual({ receiveMBps: 5.2, ddMBps: 10.5, ratio: 0.5, message });
  });

  it('refuses a message of another shape', () => {
    expect(() => parseWriteStage('dd was fast')).toThrow(/Cannot read the bench step's message: dd was fast/);
  });

  it('is summarized from the bench:done event and rendered against the goal', () => {
    const withBench = [...events.slice(0, 8), step(83, 'bench', 'started'), step(90, 'bench', 'done', { message }), ...events.slice(8)];
    const s = summarizeRun({ ...run, events: withBench });
    expect(s.writeStage?.ratio).toBe(0.5);
    const table = renderWriteStage([s], { ...parseWriteStage(message), ratio: 0.9, rawToolsMBps: 6.5 }).join('\n');
    expect(table).toContain('6.5 MB/s, so trowel\'s receive');
    expect(table).toContain('**0.80×** the floor');
    expect(table).toMatch(/\| VM \(TCG\): BIOS, virtio +\| +5\.2 \| +10\.5 \| +\*\*0\.50×\*\* \|/);
    expect(table).toMatch(/\| host \(native CPU\): loop btrfs +\| +5\.2 \| +10\.5 \| +\*\*0\.90×\*\* \|/);
  });
});
