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
    planner.need(3, 1, 0, 0);
    planner.need(3, 1, 0, 1);
    planner.need(3, 2, 0, 2);
    expect(drain(planner)).toEqual([{ group: 3, symbol: 0 }, { group: 3, symbol: 1 }]);
    expect(planner.isEmpty).toBe(true);
  });

  it('ignores reports that predate the last repair of a group (repairs in flight)', () => {
    const planner = new RepairPlanner(10);
    planner.need(2, 2, 50, 0);
    drain(planner, 100); // symbols leave with seq 101, 102
    planner.need(2, 2, 101, 0); // sent before the receiver saw the last repair
    expect(planner.isEmpty).toBe(true);
    planner.need(2, 1, 102, 0); // fresh: one repair was lost
    expect(drain(planner, 200)).toEqual([{ group: 2, symbol: 2 }]);
  });

  it('never repeats a symbol number within a group', () => {
    const planner = new RepairPlanner(4);
    planner.proactive(1, 2);
    planner.need(1, 1, 0, 0);
    const symbols = drain(planner).map((s) => s.symbol);
    planner.need(1, 2, 1000, 0);
    symbols.push(...drain(planner, 1000).map((s) => s.symbol));
    expect(symbols).toEqual([0, 1, 2, 3]);
  });

  it('serves groups in the order they first needed repairs and marks proactive symbols', () => {
    const planner = new RepairPlanner(10);
    planner.need(7, 1, 0, 0);
    planner.proactive(2, 1);
    const first = planner.next()!;
    const second = planner.next()!;
    expect([first.group, first.proactive, second.group, second.proactive]).toEqual([7, false, 2, true]);
  });

  it('drops needs of unknown groups and non-positive counts', () => {
    const planner = new RepairPlanner(2);
    planner.need(2, 1, 0, 0);
    planner.need(0, 0, 0, 0);
    expect(planner.next()).toBeUndefined();
  });

  it('repairs a group only one receiver asked for by unicast to it, and a shared one by multicast', () => {
    const planner = new RepairPlanner(10);
    planner.need(4, 2, 0, 3);
    planner.need(4, 1, 0, 3);
    planner.need(5, 1, 0, 3);
    planner.need(5, 1, 0, 1); // a second receiver: everyone gets the repair
    const sent = [];
    for (let s = planner.next(); s; s = planner.next()) sent.push([s.group, s.to]);
    expect(sent).toEqual([[4, 3], [4, 3], [5, undefined]]);
  });

  it('multicasts the rest of a round once another receiver asks, and starts a new round after it', () => {
    const planner = new RepairPlanner(10);
    planner.need(1, 3, 0, 0);
    expect(planner.next()?.to).toBe(0);
    planner.need(1, 1, 0, 2); // fewer than still owed, but it needs them too
    expect([planner.next()?.to, planner.next()?.to, planner.next()]).toEqual([undefined, undefined, undefined]);
    planner.need(1, 1, 0, 2); // a new round, asked by one
    expect(planner.next()?.to).toBe(2);
  });

  it('multicasts proactive parity and what is asked of its group meanwhile', () => {
    const planner = new RepairPlanner(4);
    planner.proactive(0, 1);
    planner.need(0, 2, 0, 1);
    expect([planner.next()?.to, planner.next()?.to]).toEqual([undefined, undefined]);
  });
});

describe('RepairPlanner, unicast freshness', () => {
  it('takes a report as fresh for a unicast repair only past a margin of sequence numbers or after a delay', async () => {
    const { UNICAST_GUARD_MS, UNICAST_SEQ_MARGIN } = await import('./repair-planner.ts');
    const planner = new RepairPlanner(4);
    planner.need(2, 1, 10, 0, 1000);
    const s = planner.next()!;
    planner.sent(s.group, 10, 1000);
    planner.need(2, 1, 10 + UNICAST_SEQ_MARGIN - 1, 0, 1000 + UNICAST_GUARD_MS - 1); // read its batch before the repair
    expect(planner.isEmpty).toBe(true);
    planner.need(2, 1, 10 + UNICAST_SEQ_MARGIN, 0, 1001);
    expect(planner.next()?.symbol).toBe(1);
    planner.sent(2, 20, 2000);
    planner.need(2, 1, 21, 0, 2000 + UNICAST_GUARD_MS); // nothing more multicast: the delay decides
    expect(planner.next()?.symbol).toBe(2);
  });
});

describe('RepairPlanner, blocks instead of parity', () => {
  it("sends the sole asker's missing blocks themselves, lowest first, and parity once several ask", () => {
    const planner = new RepairPlanner(4);
    planner.need(1, 2, 0, 5, 0, 0b1000_0001, 0);
    planner.need(2, 1, 0, 5, 0, 0, 1 << 31);
    planner.need(3, 1, 0, 5, 0, 0b10, 0);
    planner.need(3, 1, 0, 6, 0, 0b100, 0);
    const sent = [];
    for (let s = planner.next(); s; s = planner.next()) sent.push([s.group, s.to, s.block, s.symbol]);
    expect(sent).toEqual([[1, 5, 0, 0], [1, 5, 7, 0], [2, 5, 63, 0], [3, undefined, undefined, 0]]);
  });

  it('falls back to parity for the sole asker when its mask is spent or unknown', () => {
    const planner = new RepairPlanner(2);
    planner.need(0, 2, 0, 1, 0, 0b1, 0);
    const first = planner.next()!;
    const second = planner.next()!;
    expect([first.block, second.block, second.symbol, second.to]).toEqual([0, undefined, 0, 1]);
  });
});
