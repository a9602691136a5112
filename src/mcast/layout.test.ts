import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { blockLength, blockSizeForMtu, groupLength, interfaceMtu, layoutFor } from './layout.ts';
import { parseKey } from './key.ts';

describe('blockSizeForMtu', () => {
  it('fills the frame less IP, UDP, header and MAC, in whole 32-bit words', () => {
    expect(blockSizeForMtu(1500)).toBe(1436); // 1500 - 28 - 34 = 1438, down to a multiple of 4
    expect(blockSizeForMtu(9000)).toBe(8936);
    expect(blockSizeForMtu(1500) % 4).toBe(0);
  });
  it('refuses MTUs outside 576..65000', () => {
    expect(() => blockSizeForMtu(500)).toThrow(RangeError);
    expect(() => blockSizeForMtu(70000)).toThrow(RangeError);
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
