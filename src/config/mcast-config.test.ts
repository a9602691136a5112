import { describe, expect, it } from 'vitest';
import { parseConfig } from './index.ts';
import { parseGroupPool, parseRate } from './mcast-config.ts';

const minimal = `listen: { address: 10.0.0.1 }\n`;

describe('mcast config', () => {
  it('is off by default with a /24 pool of groups', () => {
    const c = parseConfig(minimal, 't.yaml').mcast;
    expect(c).toEqual({
      enabled: false, groups: { first: '239.255.84.1', count: 255 }, port: 9000,
      rateBitsPerSecond: 900e6, windowMs: 10_000, minReceivers: 1, maxWaitMs: 60_000, dropAfterMs: 10_000, teeSegmentBits: 24,
    });
  });

  it('reads every key', () => {
    const c = parseConfig(`${minimal}mcast: { enabled: true, group: 239.1.2.3, port: 5000, rate: 1G, window: 2s, minReceivers: 3, maxWait: 30s, dropAfter: 1m, teeSegment: 20 }\n`).mcast;
    expect(c).toEqual({
      enabled: true, groups: { first: '239.1.2.3', count: 1 }, port: 5000, rateBitsPerSecond: 1e9, windowMs: 2000, minReceivers: 3, maxWaitMs: 30_000, dropAfterMs: 60_000, teeSegmentBits: 20,
    });
  });

  it.each([
    ['group: 10.0.0.1', 't.yaml:3:10: mcast.group must lie in 239.0.0.0/8'],
    ['group: 239.255.84.7/24', 't.yaml:3:10: mcast.group 239.255.84.7/24 is not the start of its block (did you mean 239.255.84.0/24?)'],
    ['rate: fast', 't.yaml:3:9: mcast.rate must be a rate from 1M to 100G'],
    ['port: 80', 't.yaml:3:9: mcast.port must be an integer from 1024 to 65535'],
    ['dropAfter: 1s', 't.yaml:3:14: mcast.dropAfter must be from 2s to 10m, not 1s'],
    ['dropAfter: 1h', 't.yaml:3:14: mcast.dropAfter must be from 2s to 10m, not 3600s'],
    ['teeSegment: 4', 't.yaml:3:15: mcast.teeSegment must be an integer from 8 to 32'],
    ['window: 2m\n  maxWait: 1m', 't.yaml:4:12: mcast.maxWait (60s) must not be shorter than mcast.window (120s)'],
    ['windw: 2s', 't.yaml:3:3: unknown key "mcast.windw" (did you mean "mcast.window"?)'],
  ])('refuses %s with its line', (line, message) => {
    expect(() => parseConfig(`${minimal}mcast:\n  ${line}\n`, 't.yaml')).toThrow(message);
  });

  it('parses group blocks and rates', () => {
    expect(parseGroupPool('239.0.0.0/30')).toEqual({ first: '239.0.0.1', count: 3 });
    expect(parseGroupPool('239.0.0.9/32')).toEqual({ first: '239.0.0.9', count: 1 });
    expect(parseGroupPool('239.0.0.0/8')).toMatch(/prefix from \/16/);
    expect(parseRate('900Mbit')).toBe(900e6);
    expect(parseRate('1.5g')).toBe(1.5e9);
    expect(parseRate('2000000')).toBe(2e6);
    expect(parseRate('10k')).toBeUndefined();
  });
});
