import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REASSEMBLY_BYTES, REASSEMBLY_SECONDS, tuneIpReassembly } from './ip-reassembly.ts';

// A directory standing in for /proc/sys/net/ipv4: the real one is the host's, and a test must not retune it.
const dirs: string[] = [];
function sysctls(time: string, high: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'trowel-ipfrag-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'ipfrag_time'), time);
  writeFileSync(join(dir, 'ipfrag_high_thresh'), high);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('tuneIpReassembly', () => {
  it("shortens Linux's 30 s wait and raises its 4 MiB ceiling", async () => {
    const dir = sysctls('30\n', '4194304\n');
    const t = await tuneIpReassembly(dir);
    expect(t).toEqual({ timeSeconds: REASSEMBLY_SECONDS, highThreshBytes: REASSEMBLY_BYTES, changed: [`ipfrag_high_thresh 4194304 -> ${REASSEMBLY_BYTES}`, `ipfrag_time 30 -> ${REASSEMBLY_SECONDS}`] });
    expect(readFileSync(join(dir, 'ipfrag_time'), 'utf8')).toBe(`${REASSEMBLY_SECONDS}\n`);
    expect(Number(readFileSync(join(dir, 'ipfrag_high_thresh'), 'utf8'))).toBe(REASSEMBLY_BYTES);
  });

  it('never makes a setting worse than an operator chose', async () => {
    const dir = sysctls('1\n', String(256 << 20));
    expect(await tuneIpReassembly(dir)).toEqual({ timeSeconds: 1, highThreshBytes: 256 << 20, changed: [] });
  });

  it('reports why it could not read or write instead of throwing', async () => {
    expect((await tuneIpReassembly('/nonexistent/ipv4')).refused).toBe('ENOENT');
    const dir = sysctls('thirty', '4194304');
    expect((await tuneIpReassembly(dir)).refused).toMatch(/not a number/);
  });
});
