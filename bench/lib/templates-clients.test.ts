import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fetchesPerClient, LOAD_SCRIPT, parseLoadOutput } from './templates-clients.ts';

describe('fetchesPerClient', () => {
  it('gives each client enough downloads for the run to move the target bytes', () => {
    expect(fetchesPerClient(4e9, 1, 180e6)).toBe(23);
    expect(fetchesPerClient(4e9, 10, 180e6)).toBe(3);
  });

  it('gives at least one download when the clients alone move more than the target', () => {
    expect(fetchesPerClient(4e9, 50, 180e6)).toBe(1);
  });

  it('refuses no clients or an empty stream', () => {
    expect(() => fetchesPerClient(1e9, 0, 1)).toThrow(RangeError);
    expect(() => fetchesPerClient(1e9, 1, 0)).toThrow(RangeError);
  });
});

describe('parseLoadOutput', () => {
  it('counts whole downloads and times from the start mark to the end mark', () => {
    const out = 'S 1000000000000\nT 200 500\nT 200 500\nE 1002500000000\n';
    expect(parseLoadOutput(out, 500, 2)).toEqual({ downloads: 2, bytes: 1000, seconds: 2.5, problems: [] });
  });

  it('reports a wrong status, a short body and downloads that printed nothing', () => {
    const out = 'S 0\nT 404 120\nT 200 499\nE 1000000000\n';
    expect(parseLoadOutput(out, 500, 3)).toEqual({
      downloads: 0,
      bytes: 619,
      seconds: 1,
      problems: ['status 404, 120 of 500 bytes', 'status 200, 499 of 500 bytes', '1 download(s) printed nothing (curl failed to connect?)'],
    });
  });

  it('refuses output without its time marks', () => {
    expect(() => parseLoadOutput('T 200 500\n', 500, 1)).toThrow(/no start or end mark/);
  });
});

describe('LOAD_SCRIPT', () => {
  it('starts N clients with K downloads each and marks start and end (curl replaced by a stub)', () => {
    // A stub named curl first on PATH prints one line per URL it was given, as curl -w does per download.
    const stubDir = execFileSync('mktemp', ['-d']).toString().trim();
    execFileSync('sh', ['-c', `printf '#!/bin/sh\\nfor a; do case "$a" in http*) echo "T 200 7";; esac; done\\n' > "${stubDir}/curl" && chmod +x "${stubDir}/curl"`]);
    const out = execFileSync('sh', ['-c', LOAD_SCRIPT, 'load', 'http://x/y', '3', '2'], { env: { ...process.env, PATH: `${stubDir}:${process.env.PATH}` } }).toString();
    execFileSync('rm', ['-rf', stubDir]);
    const outcome = parseLoadOutput(out, 7, 6);
    expect(outcome.downloads).toBe(6);
    expect(outcome.problems).toEqual([]);
    expect(outcome.seconds).toBeGreaterThanOrEqual(0);
  });
});
