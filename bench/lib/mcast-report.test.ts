import { describe, expect, it } from 'vitest';
import {
  flatness, GiB, goodputMBps, goodputRatio, medianSeconds, pointId, receiverCpuPerGiB, renderGoals, renderGoodputTable, senderCpuPerGiB,
  type McastPoint, type McastResults,
} from './mcast-report.ts';

const point = (receivers: number, lossPercent: number): McastPoint => ({ id: pointId({ mtu: 1500, receivers, lossPercent }), mtu: 1500, receivers, lossPercent });
const one = point(1, 0);
const six = point(6, 0);

function results(): McastResults {
  return {
    bytes: GiB / 2,
    subject: 'trowel',
    peers: ['udpcast'],
    points: [one, six],
    runs: {
      [one.id]: {
        trowel: [{ rep: 1, seconds: 4, senderCpuSeconds: 1, receiverCpuSeconds: [0.5] }, { rep: 2, seconds: 6, senderCpuSeconds: 2, receiverCpuSeconds: [1] }],
        udpcast: [{ rep: 1, seconds: 6 }, { rep: 2, error: 'udp-receiver exit 1' }],
      },
      [six.id]: {
        trowel: [{ rep: 1, seconds: 6, receiverCpuSeconds: [1, 1, 1, 2, 2, 2] }],
        udpcast: [{ rep: 1, seconds: 12 }],
      },
    },
  };
}

describe('mcast-report', () => {
  it('pointId names MTU, receivers and loss', () => {
    expect(pointId({ mtu: 9000, receivers: 3, lossPercent: 5 })).toBe('m9000-r3-l5');
  });

  it('medianSeconds ignores failed runs', () => {
    expect(medianSeconds(results(), one, 'trowel')).toBe(5);
    expect(medianSeconds(results(), one, 'udpcast')).toBe(6);
    expect(medianSeconds(results(), point(3, 0), 'trowel')).toBeUndefined();
  });

  it('goodputMBps is bytes over the median seconds in 10^6 bytes per second', () => {
    expect(goodputMBps(results(), one, 'trowel')).toBeCloseTo(GiB / 2 / 5 / 1e6, 10);
  });

  it('goodputRatio is the peer seconds over trowel seconds', () => {
    expect(goodputRatio(results(), one, 'udpcast')).toBeCloseTo(1.2, 10);
    expect(goodputRatio(results(), six, 'udpcast')).toBe(2);
  });

  it('flatness divides the time at the most receivers by the time at one', () => {
    expect(flatness(results(), 'trowel', 1500, 0)).toBeCloseTo(6 / 5, 10);
    expect(flatness(results(), 'udpcast', 1500, 0)).toBe(2);
    expect(flatness(results(), 'trowel', 9000, 0)).toBeUndefined();
  });

  it('receiverCpuPerGiB averages over receivers and scales to one GiB; senderCpuPerGiB scales the sender', () => {
    // Half a GiB: 0.5 s and 1 s per receiver → 1 and 2 s/GiB, median 1.5; six receivers averaging 1.5 s → 3 s/GiB.
    expect(receiverCpuPerGiB(results(), one, 'trowel')).toBeCloseTo(1.5, 10);
    expect(receiverCpuPerGiB(results(), six, 'trowel')).toBeCloseTo(3, 10);
    expect(receiverCpuPerGiB(results(), six, 'udpcast')).toBeUndefined();
    expect(senderCpuPerGiB(results(), one, 'trowel')).toBeCloseTo(3, 10);
  });

  it('renderGoals says whether trowel met 1.2x udpcast everywhere and whether it is flatter', () => {
    const lines = renderGoals(results(), [1500]);
    expect(lines[0]).toContain('≥ 1.2× at 2 of 2 points (goal ≥ 1.2× at every point: met)');
    expect(lines[0]).toContain('range 1.20× (1 rx, 0% loss) to 2.00× (6 rx, 0% loss)');
    expect(lines[1]).toBe('- MTU 1500, 0% loss, flatness time(max)/time(1): trowel 1.20, udpcast 2.00 (no worse than udpcast: met)');
    expect(lines[2]).toBe('- MTU 1500, CPU s per receiver per GiB (range over points): trowel 1.50-3.00, udpcast n/a');
  });

  it('renderGoals reports a miss when one point is below the goal', () => {
    const r = results();
    r.runs[six.id]!.udpcast = [{ rep: 1, seconds: 6.6 }];
    expect(renderGoals(r, [1500])[0]).toContain('at 1 of 2 points (goal ≥ 1.2× at every point: MISSED)');
  });

  it('renderGoodputTable lists failed runs per tool', () => {
    expect(renderGoodputTable(results(), 1500)).toMatch(/\| +1 \| +0% \| +5\.00 \| +6\.00 \|.*\| udpcast 1 +\|/);
  });
});
