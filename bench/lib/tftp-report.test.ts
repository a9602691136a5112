import { describe, expect, it } from 'vitest';
import { equalLossSeconds, ignoredOptions, ratioAt, renderGoal, secondsPerDrop, summarize, type TftpResults } from './tftp-report.ts';

const lossless = { id: 'b512-w16-l0', blksize: 512, windowsize: 16, lossPercent: 0, bytes: 8 * 1024 * 1024 };
const lossy = { id: 'b512-w16-l1', blksize: 512, windowsize: 16, lossPercent: 1, bytes: 1024 * 1024 };

function results(): TftpResults {
  return {
    subject: 'trowel',
    peers: ['dnsmasq'],
    settings: [lossless, lossy],
    runs: {
      [lossless.id]: {
        trowel: [{ rep: 1, seconds: 2 }, { rep: 2, seconds: 4 }, { rep: 3, seconds: 3 }],
        dnsmasq: [{ rep: 1, seconds: 6 }, { rep: 2, error: 'atftp exit 255' }, { rep: 3, seconds: 5 }],
      },
      [lossy.id]: {
        // 8 MiB lossless in 3 s → 1 MiB expected in 0.375 s; the rest is loss recovery.
        trowel: [{ rep: 1, seconds: 2.375, dropped: 2 }, { rep: 2, seconds: 4.375, dropped: 4 }],
        dnsmasq: [{ rep: 1, seconds: 1, dropped: 0 }],
      },
    },
    oack: {
      trowel: { '512/16': { blksize: '512', windowsize: '16', timeout: '1' } },
      dnsmasq: { '512/16': { blksize: '512' } },
    },
  };
}

describe('tftp report', () => {
  it('summarize takes the median of successful runs and counts failures', () => {
    expect(summarize(results().runs[lossless.id]!.dnsmasq!)).toEqual({ seconds: 5.5, failures: 1, dropped: undefined });
  });

  it('ratioAt divides the peer median seconds by trowel median seconds', () => {
    expect(ratioAt(results(), lossless, 'dnsmasq')).toBeCloseTo(5.5 / 3, 10);
  });

  it('secondsPerDrop subtracts the lossless time for the same bytes and divides by drops', () => {
    expect(secondsPerDrop(results(), lossy, 'trowel')).toBe(1);
    expect(secondsPerDrop(results(), lossy, 'dnsmasq')).toBeUndefined();
  });

  it('equalLossSeconds adds the expected drops at the nominal loss times the cost per drop', () => {
    // 1 MiB at 512 bytes: 2049 DATA packets, 1% → 20.49 expected drops at 1 s each, plus 0.375 s of transfer.
    expect(equalLossSeconds(results(), lossy, 'trowel')).toBeCloseTo(0.375 + 20.49, 10);
    expect(equalLossSeconds(results(), lossy, 'dnsmasq')).toBeUndefined();
  });

  it('ignoredOptions names servers whose OACK left out the asked windowsize', () => {
    expect(ignoredOptions(results(), lossless)).toEqual(['dnsmasq ignored windowsize']);
  });

  it('renderGoal lists the settings where trowel is slower', () => {
    const r = results();
    r.runs[lossy.id]!.dnsmasq = [{ rep: 1, seconds: 2 }];
    expect(renderGoal(r, 'dnsmasq')).toBe('- ≥ 1.0× dnsmasq: met at 1 of 2 settings; slower at blksize 512 window 16 loss 1%: 0.59×');
  });

  it('renderGoal lists a ratio within 1% apart from the losses', () => {
    const r = results();
    // trowel median 3.375 s; dnsmasq 3.36 s → 0.9956×.
    r.runs[lossy.id]!.dnsmasq = [{ rep: 1, seconds: 3.36 }];
    expect(renderGoal(r, 'dnsmasq')).toBe('- ≥ 1.0× dnsmasq: met at 1 of 2 settings; within 1% at blksize 512 window 16 loss 1%: 0.996×');
  });
});
