import { describe, expect, it } from 'vitest';
import { parseCpuinfo, parseMeminfo } from './proc.ts';

const X86 = [0, 1, 2, 3].map((n) => `processor\t: ${n}
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz
physical id\t: ${n < 2 ? 0 : 1}
core id\t\t: ${n % 2}
flags\t\t: fpu vme
`).join('\n');

describe('parseCpuinfo', () => {
  it('counts threads, cores and sockets of an x86 machine and takes the model name', () => {
    expect(parseCpuinfo(X86)).toEqual({ model: 'Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz', threads: 4, cores: 4, sockets: 2 });
  });

  it('counts hyperthreads as threads, not cores', () => {
    const ht = [0, 1].map((n) => `processor : ${n}\nmodel name : X\nphysical id : 0\ncore id : 0\n`).join('\n');
    expect(parseCpuinfo(ht)).toEqual({ model: 'X', threads: 2, cores: 1, sockets: 1 });
  });

  it('reads an arm64 cpuinfo, which has no model name nor topology', () => {
    const arm = 'processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n';
    expect(parseCpuinfo(arm)).toEqual({ model: undefined, threads: 2, cores: undefined, sockets: undefined });
  });
});

describe('parseMeminfo', () => {
  it('reads MemTotal in bytes', () => {
    expect(parseMeminfo('MemTotal:       16323932 kB\nMemFree:         1 kB\n')).toBe(16323932 * 1024);
    expect(parseMeminfo('')).toBe(0);
  });
});
