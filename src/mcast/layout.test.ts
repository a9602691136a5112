import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { blockLength, blockSizeForDatagram, datagramSize, defaultBlockSize, defaultFragments, groupLength, interfaceMtu, layoutFor } from './layout.ts';
import { parseKey } from './key.ts';

describe('blockSizeForDatagram', () => {
  it('fills the datagram less IP, UDP, header and MAC, in whole 32-bit words', () => {
    expect(blockSizeForDatagram(1500)).toBe(1436); // 1500 - 28 - 34 = 1438, down to a multiple of 4
    expect(blockSizeForDatagram(9000)).toBe(8936);
    expect(blockSizeForDatagram(8900)).toBe(8836);
    expect(blockSizeForDatagram(1500) % 4).toBe(0);
  });
  it('refuses sizes outside 576..65000', () => {
    expect(() => blockSizeForDatagram(500)).toThrow(RangeError);
    expect(() => blockSizeForDatagram(70000)).toThrow(RangeError);
  });
});

describe('datagrams of whole fragments', () => {
  it('takes as many fragments as fit in about 9 KB: 6 at MTU 1500, 1 with jumbo frames', () => {
    expect(defaultFragments(1500)).toBe(6);
    expect(defaultFragments(9000)).toBe(1);
    expect(defaultFragments(576)).toBe(16);
  });
  it('fills every fragment but the IP header of each: offsets count 8-byte units', () => {
    expect(datagramSize(1500, 6)).toBe(6 * 1480 + 20);
    expect(datagramSize(1500, 1)).toBe(1500);
    expect(datagramSize(9000, 1)).toBe(9000);
    expect(datagramSize(1499, 2)).toBe(2 * 1472 + 20); // 1479 rounds down to 1472
    expect(defaultBlockSize(1500)).toBe(8836);
    expect(defaultBlockSize(9000)).toBe(8936);
  });
  it('refuses no fragments, too many, and datagrams over 65000 bytes', () => {
    expect(() => datagramSize(1500, 0)).toThrow(/give 1 to 16/);
    expect(() => datagramSize(1500, 17)).toThrow(/give 1 to 16/);
    expect(() => datagramSize(1500, 1.5)).toThrow(RangeError);
    expect(() => datagramSize(9000, 8)).toThrow(/over 65000/);
    expect(() => datagramSize(100, 1)).toThrow(/MTU 100/);
  });
});

describe('layoutFor', () => {
  it('counts blocks and groups, with a short last block and group', () => {
    const layout = layoutFor(1000, 100, 4);
    expect(layout).toMatchObject({ blockCount: 10, groupCount: 3 });
    expect(groupLength(layout, 2)).toBe(2);
    expect(blockLength(layout, 9)).toBe(100);
    expect(blockLength(layoutFor(950, 100, 4), 9)).toBe(50);
  });
  it('handles an empty file', () => {
    expect(layoutFor(0, 1436, 64)).toMatchObject({ blockCount: 0, groupCount: 0 });
  });
});

describe('interfaceMtu', () => {
  it('reads the loopback MTU from sysfs', () => {
    expect(interfaceMtu('127.0.0.1')).toBeGreaterThanOrEqual(1500);
  });
  it('says which address it could not find', () => {
    expect(() => interfaceMtu('192.0.2.77')).toThrow(TrowelError);
  });
});

describe('parseKey', () => {
  it('takes 32 raw bytes or 64 hex characters with a newline', () => {
    const raw = Buffer.alloc(32, 7);
    expect(parseKey(raw).equals(raw)).toBe(true);
    expect(parseKey(Buffer.from(`${raw.toString('hex')}\n`)).equals(raw)).toBe(true);
  });
  it('refuses anything else with a hint', () => {
    expect(() => parseKey(Buffer.from('short'))).toThrow(/neither 32 raw bytes nor 64 hex/);
  });
});
