import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseChildTimes } from './templates-pipeline.ts';

describe('parseChildTimes', () => {
  it('reads the children line of bash times, minutes included', () => {
    expect(parseChildTimes('0m0.004s 0m0.001s\n1m2.500s 0m3.250s\n')).toEqual({ user: 62.5, system: 3.25 });
  });

  it('skips what the command printed before it', () => {
    expect(parseChildTimes('some output\n0m0.000s 0m0.000s\n0m1.000s 0m0.500s')).toEqual({ user: 1, system: 0.5 });
  });

  it('refuses output without the two lines of times', () => {
    expect(() => parseChildTimes('0m1.000s 0m0.500s\n')).toThrow(/no "times" output/);
    expect(() => parseChildTimes('')).toThrow(/no "times" output/);
  });

  it('reads what bash really prints', () => {
    const out = execFileSync('bash', ['-c', 'sleep 0.01 && times']).toString();
    const t = parseChildTimes(out);
    expect(t.user).toBeGreaterThanOrEqual(0);
    expect(t.system).toBeGreaterThanOrEqual(0);
  });
});
