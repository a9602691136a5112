import { describe, expect, it } from 'vitest';
import { cpuSecondsFromStat, processCpuSeconds } from './cpu.ts';
import { parseUsageUsec } from './cpu-group.ts';

describe('cpuSecondsFromStat', () => {
  it('cpuSecondsFromStat adds utime, stime, cutime and cstime in 1/100 s ticks', () => {
    const stat = '4242 (in.tftpd) S 1 4242 4242 0 -1 4194560 120 0 0 0 150 25 7 3 20 0 1 0 99 1000 200';
    expect(cpuSecondsFromStat(stat)).toBeCloseTo(1.85, 10);
  });

  it('cpuSecondsFromStat is not fooled by spaces and parentheses in the command name', () => {
    const stat = '7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 100 0 0 0 20 0 1 0 5 1 1';
    expect(cpuSecondsFromStat(stat)).toBe(1);
  });

  it('processCpuSeconds reads a live process', () => {
    expect(processCpuSeconds(process.pid)).toBeGreaterThan(0);
  });
});

describe('parseUsageUsec', () => {
  it('parseUsageUsec reads usage_usec from a cgroup v2 cpu.stat', () => {
    expect(parseUsageUsec('usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n')).toBe(123456);
    expect(() => parseUsageUsec('user_usec 1\n')).toThrow(/usage_usec/);
  });
});
