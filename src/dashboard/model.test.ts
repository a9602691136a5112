import { describe, expect, it } from 'vitest';
import type { MachineStatus, StreamMessage } from '../http/event-stream-messages.ts';
import { applyMessage, connected, currentRate, disconnected, initialState, MAX_EVENTS, type DashboardState } from './model.ts';
import { counters, iso, machine, T0 } from './test-fixture.ts';

function snapshot(at = T0, c = counters(0), machines: MachineStatus[] = []): StreamMessage {
  return { type: 'snapshot', at: iso(at), machines, events: [], counters: c };
}

function apply(state: DashboardState, ...messages: StreamMessage[]): DashboardState {
  return messages.reduce(applyMessage, state);
}

describe('dashboard model', () => {
  it('starts connecting, goes live, and says why it is reconnecting', () => {
    let s = initialState('http://10.0.0.1:8080');
    expect(s.connection).toEqual({ kind: 'connecting', attempt: 0 });
    s = connected(s, T0);
    expect(s.connection).toEqual({ kind: 'live', since: T0 });
    s = disconnected(s, 2, 'ECONNREFUSED');
    expect(s.connection).toEqual({ kind: 'connecting', attempt: 2, error: 'ECONNREFUSED' });
  });

  it('takes machines from the snapshot and replaces one row per machine message', () => {
    const s = apply(
      initialState('x'),
      snapshot(T0, counters(0), [machine('52:54:00:00:00:01'), machine('52:54:00:00:00:02')]),
      { type: 'machine', machine: machine('52:54:00:00:00:02', { state: 'provisioning:receive', progress: 0.5 }) },
      { type: 'machine', machine: machine('52:54:00:00:00:03') },
    );
    expect([...s.machines.keys()]).toEqual(['52:54:00:00:00:01', '52:54:00:00:00:02', '52:54:00:00:00:03']);
    expect(s.machines.get('52:54:00:00:00:02')).toMatchObject({ state: 'provisioning:receive', progress: 0.5 });
  });

  it('keeps the newest events only', () => {
    let s = apply(initialState('x'), snapshot());
    for (let id = 1; id <= MAX_EVENTS + 5; id++) s = applyMessage(s, { type: 'event', event: { id, mac: 'm', at: iso(T0), kind: 'log', line: String(id) } });
    expect(s.events).toHaveLength(MAX_EVENTS);
    expect(s.events[0]!.id).toBe(6);
    expect(s.events.at(-1)!.id).toBe(MAX_EVENTS + 5);
  });

  it('turns counter totals into a served rate, and sums the machines’ reported rates', () => {
    const busy = machine('52:54:00:00:00:01', { rate: 3 * 2 ** 20, updatedAt: iso(T0 + 1500) });
    const s = apply(
      initialState('x'),
      snapshot(T0, counters(1000, 0), [busy]),
      { type: 'counters', at: iso(T0 + 1000), counters: counters(1000 + 4 * 2 ** 20, 2 ** 20) },
      { type: 'counters', at: iso(T0 + 3000), counters: counters(1000 + 6 * 2 ** 20, 2 ** 20) },
    );
    expect(s.throughput).toEqual([
      { at: T0 + 1000, served: 5 * 2 ** 20, received: 3 * 2 ** 20 },
      { at: T0 + 3000, served: 2 ** 20, received: 3 * 2 ** 20 },
    ]);
  });

  it('makes no rate across a server restart (totals went down) and keeps the history', () => {
    let s = apply(initialState('x'), snapshot(T0, counters(0)), { type: 'counters', at: iso(T0 + 1000), counters: counters(5000) });
    expect(s.throughput).toHaveLength(1);
    s = apply(s, { type: 'counters', at: iso(T0 + 2000), counters: counters(10) });
    expect(s.throughput).toHaveLength(1);
    s = apply(s, snapshot(T0 + 5000, counters(0)), { type: 'counters', at: iso(T0 + 6000), counters: counters(2000) });
    expect(s.throughput.map((x) => x.served)).toEqual([5000, 2000]);
  });

  it('ignores a message kind it does not know', () => {
    const s = initialState('x');
    expect(applyMessage(s, { type: 'future' } as unknown as StreamMessage)).toBe(s);
  });
});

describe('currentRate', () => {
  it('drops a rate the machine has not refreshed for 15 s', () => {
    const m = machine('m', { rate: 100, updatedAt: iso(T0) });
    expect(currentRate(m, T0 + 15_000)).toBe(100);
    expect(currentRate(m, T0 + 15_001)).toBeNull();
    expect(currentRate(machine('m'), T0)).toBeNull();
  });
});
