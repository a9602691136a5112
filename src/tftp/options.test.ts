import { describe, expect, it } from 'vitest';
import type { TftpOption } from './codec.ts';
import { negotiate } from './options.ts';

const limits = { maxBlockSize: 1468, maxWindowSize: 64, transferSize: 12345 };
const opts = (...pairs: [string, string][]): TftpOption[] => pairs.map(([name, value]) => ({ name, value }));

describe('negotiate', () => {
  it('uses RFC 1350 defaults and sends no OACK when no option is asked', () => {
    expect(negotiate([], limits)).toEqual({ blockSize: 512, windowSize: 1, timeoutMs: 1000, oack: [] });
  });

  // [requested options, expected OACK, expected blockSize, windowSize, timeoutMs]
  const table: [string, TftpOption[], TftpOption[], number, number, number][] = [
    ['blksize within limits', opts(['blksize', '1024']), opts(['blksize', '1024']), 1024, 1, 1000],
    ['blksize at RFC 2348 minimum', opts(['blksize', '8']), opts(['blksize', '8']), 8, 1, 1000],
    ['blksize above the server cap is clamped', opts(['blksize', '65464']), opts(['blksize', '1468']), 1468, 1, 1000],
    ['blksize above the RFC range is clamped too', opts(['blksize', '99999']), opts(['blksize', '1468']), 1468, 1, 1000],
    ['blksize below 8 is ignored', opts(['blksize', '7']), [], 512, 1, 1000],
    ['blksize not a number is ignored', opts(['blksize', 'big']), [], 512, 1, 1000],
    ['blksize in hex is ignored', opts(['blksize', '0x200']), [], 512, 1, 1000],
    ['tsize answers the transfer size', opts(['tsize', '0']), opts(['tsize', '12345']), 512, 1, 1000],
    ['timeout 1..255 is echoed', opts(['timeout', '3']), opts(['timeout', '3']), 512, 1, 3000],
    ['timeout 255 is accepted', opts(['timeout', '255']), opts(['timeout', '255']), 512, 1, 255000],
    ['timeout 0 is ignored', opts(['timeout', '0']), [], 512, 1, 1000],
    ['timeout 256 is ignored', opts(['timeout', '256']), [], 512, 1, 1000],
    ['windowsize within the cap', opts(['windowsize', '16']), opts(['windowsize', '16']), 512, 16, 1000],
    ['windowsize above the cap is clamped', opts(['windowsize', '65535']), opts(['windowsize', '64']), 512, 64, 1000],
    ['windowsize 0 is ignored', opts(['windowsize', '0']), [], 512, 1, 1000],
    ['windowsize above 65535 is ignored', opts(['windowsize', '65536']), [], 512, 1, 1000],
    ['unknown options are not echoed', opts(['multicast', ''], ['utimeout', '5000']), [], 512, 1, 1000],
    ['a repeated option counts once', opts(['blksize', '1000'], ['blksize', '8']), opts(['blksize', '1000']), 1000, 1, 1000],
    [
      'all four keep the client order',
      opts(['tsize', '0'], ['windowsize', '8'], ['foo', 'bar'], ['blksize', '1468'], ['timeout', '2']),
      opts(['tsize', '12345'], ['windowsize', '8'], ['blksize', '1468'], ['timeout', '2']),
      1468, 8, 2000,
    ],
  ];
  for (const [name, requested, oack, blockSize, windowSize, timeoutMs] of table) {
    it(name, () => {
      expect(negotiate(requested, limits)).toEqual({ blockSize, windowSize, timeoutMs, oack });
    });
  }

  it('leaves tsize out when the size is not known in advance (netascii)', () => {
    expect(negotiate(opts(['tsize', '0']), { ...limits, transferSize: undefined }).oack).toEqual([]);
  });

  it('honours a server configured below 512 only for blksize requests', () => {
    expect(negotiate(opts(['blksize', '1468']), { ...limits, maxBlockSize: 256 }).blockSize).toBe(256);
  });
});
