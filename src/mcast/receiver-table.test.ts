import { describe, expect, it } from 'vitest';
import { PacketType, type StatusPacket } from './packet.ts';
import { LOSS_SAMPLE, MAX_WINDOW, MIN_WINDOW, ReceiverTable, truesize } from './receiver-table.ts';

function status(fields: Partial<StatusPacket>): StatusPacket {
  return {
    type: PacketType.STATUS, session: 1, receiver: 1, report: 1, seq: 0, contiguous: 0, complete: 0, rateKiBps: 0, received: 0, firstBlock: 0,
    receiveBuffer: 8 << 20, needs: [], ...fields,
  };
}

describe('truesize', () => {
  it('matches what veth charged a socket buffer per datagram', () => {
    expect(truesize(1472)).toBe(2304);
    expect(truesize(8972)).toBe(16640);
  });
});

describe('ReceiverTable', () => {
  it('adds a receiver once; a late joiner starts acknowledged at the current sequence number', () => {
    const table = new ReceiverTable();
    expect(table.report(7, 1, '10.0.0.2', 4000, 0, 500)!.added).toBe(true);
    const { receiver, added } = table.report(7, 2, '10.0.0.2', 4001, 10, 900)!;
    expect(added).toBe(false);
    expect([receiver.ackSeq, receiver.port, receiver.lastHeard]).toEqual([500, 4001, 10]);
  });

  it('takes a report only when its number is above the last one taken: a replay neither revives nor redirects a receiver', () => {
    const table = new ReceiverTable();
    const r = table.report(7, 5, '10.0.0.2', 4000, 0, 0)!.receiver;
    expect(table.report(7, 5, '10.0.0.66', 6666, 100, 0)).toBeUndefined(); // the same packet again, from elsewhere
    expect(table.report(7, 3, '10.0.0.66', 6666, 100, 0)).toBeUndefined(); // an older one
    expect([r.address, r.port, r.lastHeard, r.report]).toEqual(['10.0.0.2', 4000, 0, 5]);
    expect(table.report(7, 6, '10.0.0.3', 4001, 200, 0)!.receiver).toBe(r); // moved: the newer report says where it is now
    expect([r.address, r.port, r.lastHeard, r.report]).toEqual(['10.0.0.3', 4001, 200, 6]);
    expect(table.report(8, 0, '10.0.0.4', 4000, 0, 0)).toBeUndefined(); // receivers number their reports from 1
    expect(table.all.size).toBe(1);
  });

  it('takes acknowledgements, progress and the receive buffer from STATUS', () => {
    const table = new ReceiverTable();
    const r = table.report(1, 1, 'a', 1, 0, 0)!.receiver;
    table.status(r, status({ seq: 300, complete: 250, receiveBuffer: 1 << 20 }), 5);
    table.status(r, status({ seq: 200, complete: 240 }), 6); // reordered: nothing goes back
    expect([r.ackSeq, r.complete, r.lastProgress, r.receiveBuffer]).toEqual([300, 250, 5, 8 << 20]);
  });

  it('measures loss over samples of LOSS_SAMPLE packets and signals loss above the baseline once per sample', () => {
    const table = new ReceiverTable();
    const r = table.report(1, 1, 'a', 1, 0, 0)!.receiver;
    expect(table.status(r, status({ seq: 100, received: 100 }), 0)).toBe(false);
    let seq = 100;
    let received = 100;
    for (let i = 0; i < 5; i++) {
      seq += LOSS_SAMPLE;
      received += LOSS_SAMPLE * 0.99;
      expect(table.status(r, status({ seq, received }), i)).toBe(false);
    }
    expect(r.loss).toBeCloseTo(0.01);
    seq += LOSS_SAMPLE / 2;
    received += LOSS_SAMPLE / 4;
    expect(table.status(r, status({ seq, received }), 10)).toBe(false); // sample not complete yet
    seq += LOSS_SAMPLE / 2;
    received += LOSS_SAMPLE / 4;
    expect(table.status(r, status({ seq, received }), 11)).toBe(true); // 50% over the sample
    expect(r.congestedSince).toBe(11);
    expect(table.status(r, status({ seq, received }), 12)).toBe(false); // the same sample is not judged twice
  });

  it('holds the window at the slowest heard-from receiver, sized from the smallest buffer', () => {
    const table = new ReceiverTable();
    const a = table.report(1, 1, 'a', 1, 900, 0)!.receiver;
    const b = table.report(2, 1, 'b', 1, 900, 0)!.receiver;
    const c = table.report(3, 1, 'c', 1, 900, 0)!.receiver;
    table.status(a, status({ seq: 1000, receiveBuffer: 8 << 20 }), 900);
    table.status(b, status({ seq: 800, receiveBuffer: 4 << 20 }), 900);
    c.state = 'done';
    const view = table.window(1000, 500, 1472)!;
    expect(view.holder).toBe(b);
    expect(view.left).toBe(800);
    expect(view.size).toBe(Math.floor(((4 << 20) * 0.6) / 2304));
    // b falls silent: a holds the window alone.
    b.lastHeard = 0;
    expect(table.window(1000, 500, 1472)!.holder).toBe(a);
    a.lastHeard = 0;
    expect(table.window(1000, 500, 1472)).toBeUndefined();
  });

  it('keeps the window within its bounds', () => {
    const table = new ReceiverTable();
    const r = table.report(1, 1, 'a', 1, 0, 0)!.receiver;
    table.status(r, status({ receiveBuffer: 1000 }), 0);
    expect(table.window(0, 500, 1472)!.size).toBe(MIN_WINDOW);
    table.status(r, status({ receiveBuffer: 2 ** 31 }), 0);
    expect(table.window(0, 500, 1472)!.size).toBe(MAX_WINDOW);
  });

  it('counts receivers by state with the worst loss', () => {
    const table = new ReceiverTable();
    table.report(1, 1, 'a', 1, 0, 0)!.receiver.state = 'done';
    table.report(2, 1, 'b', 1, 0, 0)!.receiver.loss = 0.05;
    table.report(3, 1, 'c', 1, 0, 0)!.receiver.state = 'dropped';
    expect(table.counts()).toEqual({ active: 1, done: 1, dropped: 1, worstLoss: 0.05 });
  });
});
