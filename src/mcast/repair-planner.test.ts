import { describe, expect, it } from 'vitest';
import { RepairPlanner } from './repair-planner.ts';

function drain(planner: RepairPlanner, seqStart = 100): { group: number; symbol: number }[] {
  const out: { group: number; symbol: number }[] = [];
  let seq = seqStart;
  for (let s = planner.next(); s; s = planner.next()) {
    out.push({ group: s.group, symbol: s.symbol });
    planner.sent(s.group, ++seq);
  }
  return out;
}

describe('RepairPlanner', () => {
  it('owes a group the most any receiver lacks, not the sum', () => {
    const planner = new RepairPlanner(10);
    planner.need(3, 1, 0);
    planner.need(3, 1, 0);
    planner.need(3, 2, 0);
    expect(drain(planner)).toEqual([{ group: 3, symbol: 0 }, { group: 3, symbol: 1 }]);
    expect(planner.isEmpty).toBe(true);
  });

  it('ignores reports that predate the last repair of a group (repairs in flight)', () => {
    const planner = new RepairPlanner(10);
    planner.need(2, 2, 50);
    drain(planner, 100); // symbols leave with seq 101, 102
    planner.need(2, 2, 101); // sent before the receiver saw the last repair
    expect(planner.isEmpty).toBe(true);
    planner.need(2, 1, 102); // fresh: one repair was lost
    expect(drain(planner, 200)).toEqual([{ group: 2, symbol: 2 }]);
  });

  it('never repeats a symbol number within a group', () => {
    const planner = new RepairPlanner(4);
    planner.proactive(1, 2);
    planner.need(1, 1, 0);
    const symbols = drain(planner).map((s) => s.symbol);
    planner.need(1, 2, 1000);
    symbols.push(...drain(planner, 1000).map((s) => s.symbol));
    expect(symbols).toEqual([0, 1, 2, 3]);
  });

  it('serves groups in the order they first needed repairs and marks proactive symbols', () => {
    const planner = new RepairPlanner(10);
    planner.need(7, 1, 0);
    planner.proactive(2, 1);
    const first = planner.next()!;
    const second = planner.next()!;
    expect([first.group, first.proactive, second.group, second.proactive]).toEqual([7, false, 2, true]);
  });

  it('drops needs of unknown groups and non-positive counts', () => {
    const planner = new RepairPlanner(2);
    planner.need(2, 1, 0);
    planner.need(0, 0, 0);
    expect(planner.next()).toBeUndefined();
  });
});
