import { describe, expect, it } from 'vitest';
import { fixtureNames, hex, loadFixture } from '../../test/helpers/dhcp-fixtures.ts';
import { WireError } from '../wire/index.ts';
import { encodeDhcpPacket, parseDhcpPacket } from './codec.ts';
import type { DhcpPacket } from './packet.ts';

/** A 236-byte BOOTP header written out by hand: request, Ethernet, xid 0x01020304, chaddr 52:54:00:00:00:01. */
const HEADER = `01 01 06 00 01020304 0000 0000 00000000 00000000 00000000 00000000
  525400000001 ${'00'.repeat(10)} ${'00'.repeat(64)} ${'00'.repeat(128)}`;
const COOKIE = '63825363';

function packet(options: string, sname = '00'.repeat(64), file = '00'.repeat(128)): Buffer {
  const head = hex(HEADER);
  hex(sname).copy(head, 44);
  hex(file).copy(head, 108);
  return Buffer.concat([head, hex(COOKIE), hex(options)]);
}

describe('parseDhcpPacket', () => {
  it('reads the header fields of a hand-written DISCOVER', () => {
    const p = parseDhcpPacket(packet('35 01 01 ff'));
    expect(p).toMatchObject({ op: 1, htype: 1, hlen: 6, hops: 0, xid: 0x01020304, secs: 0, flags: 0, ciaddr: '0.0.0.0', giaddr: '0.0.0.0', sname: '', file: '' });
    expect(p.chaddr.toString('hex')).toBe('525400000001' + '00'.repeat(10));
    expect([...p.options]).toEqual([[53, hex('01')]]);
  });

  it('joins repeated codes in order (RFC 3396) and skips pad bytes', () => {
    const p = parseDhcpPacket(packet('00 00 2b 02 aabb 35 01 01 00 2b 01 cc ff'));
    expect(p.options.get(43)).toEqual(hex('aabbcc'));
    expect([...p.options.keys()]).toEqual([43, 53]);
  });

  it('reads options from file and then sname when option 52 overloads both (RFC 2132 9.3)', () => {
    const file = ('43 02 0102 ff').replace(/\s/g, '').padEnd(256, '0');
    const sname = ('43 01 03 0c 02 6869 ff').replace(/\s/g, '').padEnd(128, '0');
    const p = parseDhcpPacket(packet('35 01 01 34 01 03 43 01 00 ff', sname, file));
    expect(p.options.get(67)).toEqual(hex('00 0102 03'));
    expect(p.options.get(12)?.toString()).toBe('hi');
    expect(p.sname).toBe('');
    expect(p.file).toBe('');
  });

  it('keeps sname and file as text when they are not overloaded', () => {
    const sname = Buffer.from('boot-server').toString('hex').padEnd(128, '0');
    const file = Buffer.from('undionly.kpxe').toString('hex').padEnd(256, '0');
    const p = parseDhcpPacket(packet('35 01 02 ff', sname, file));
    expect(p.sname).toBe('boot-server');
    expect(p.file).toBe('undionly.kpxe');
  });

  it('tolerates a missing end option', () => {
    expect(parseDhcpPacket(packet('35 01 01')).options.get(53)).toEqual(hex('01'));
  });

  it.each([
    ['a short header', hex('0101 0600'), /shorter than the 240-byte header/],
    ['a wrong magic cookie', Buffer.concat([hex(HEADER), hex('63825364 ff')]), /magic cookie is 0x63825364/],
    ['hlen over 16', Buffer.concat([hex(HEADER.replace('01 01 06', '01 01 11')), hex(COOKIE + 'ff')]), /hlen 17/],
    ['an option running past the end', packet('35 05 01'), /option 53 length 5 runs past the end/],
    ['an option without a length byte', packet('35'), /option 53 has no length byte/],
    ['an overload value of 4', packet('34 01 04 ff'), /option 52 must be one byte 1-3/],
    ['an overloaded file area with a bad option', packet('34 01 01 ff', undefined, '0c 7f 41'.replace(/\s/g, '').padEnd(256, '0')), /DHCP file: option 12 length 127/],
  ])('rejects %s with a WireError', (_what, buf, message) => {
    expect(() => parseDhcpPacket(buf)).toThrow(WireError);
    expect(() => parseDhcpPacket(buf)).toThrow(message);
  });
});

describe('parseDhcpPacket on real client captures', () => {
  it.each(fixtureNames())('%s: every cut short of the end options gives a clean WireError, never another error', (name) => {
    const full = loadFixture(name);
    const endAt = lastOptionEnd(full);
    for (let cut = 0; cut < full.length; cut++) {
      const part = full.subarray(0, cut);
      let error: unknown;
      try {
        parseDhcpPacket(part);
      } catch (e) {
        error = e;
      }
      if (cut < endAt && !cutsBetweenOptions(full, cut)) {
        expect(error, `cut at ${cut}`).toBeInstanceOf(WireError);
        expect((error as Error).message).toMatch(/^Cannot parse DHCP/);
      } else if (error !== undefined) {
        expect(error, `cut at ${cut}`).toBeInstanceOf(WireError);
      }
    }
  });

  it.each(fixtureNames())('%s: encode(parse(x)) gives back the same bytes', (name) => {
    const bytes = loadFixture(name);
    expect(encodeDhcpPacket(parseDhcpPacket(bytes)).toString('hex')).toBe(bytes.toString('hex'));
  });
});

/** Offset just past the end option of the options area (the capture's real content). */
function lastOptionEnd(buf: Buffer): number {
  let i = 240;
  while (i < buf.length && buf[i] !== 255) i += buf[i] === 0 ? 1 : 2 + buf[i + 1]!;
  return i + 1;
}

/** True when `cut` falls exactly between two options (then the packet is just shorter, still valid). */
function cutsBetweenOptions(buf: Buffer, cut: number): boolean {
  if (cut < 240) return false;
  let i = 240;
  while (i < cut) i += buf[i] === 0 ? 1 : 2 + buf[i + 1]!;
  return i === cut;
}

describe('encodeDhcpPacket', () => {
  const base: DhcpPacket = {
    op: 2, htype: 1, hlen: 6, hops: 0, xid: 0xdeadbeef, secs: 0, flags: 0x8000,
    ciaddr: '0.0.0.0', yiaddr: '10.0.0.100', siaddr: '10.0.0.1', giaddr: '0.0.0.0',
    chaddr: hex('525400000001'), sname: '', file: 'undionly.kpxe',
    options: new Map([[53, hex('02')], [54, hex('0a000001')]]),
  };

  it('writes header, cookie, options and end, padded to 300 bytes', () => {
    const expected = hex(`
      02 01 06 00 deadbeef 0000 8000 00000000 0a000064 0a000001 00000000
      525400000001 ${'00'.repeat(10)}
      ${'00'.repeat(64)}
      ${Buffer.from('undionly.kpxe').toString('hex')}${'00'.repeat(128 - 13)}
      63825363 35 01 02 36 04 0a000001 ff ${'00'.repeat(300 - 240 - 10)}`);
    expect(encodeDhcpPacket(base).toString('hex')).toBe(expected.toString('hex'));
  });

  it('splits a value over 255 bytes into pieces with the same code (RFC 3396 6)', () => {
    const long = Buffer.alloc(300, 0xab);
    const out = encodeDhcpPacket({ ...base, options: new Map([[43, long]]) });
    const opts = out.subarray(240, 240 + 2 + 255 + 2 + 45 + 1);
    expect(opts.toString('hex')).toBe(`2bff${'ab'.repeat(255)}2b2d${'ab'.repeat(45)}ff`);
    expect(parseDhcpPacket(out).options.get(43)).toEqual(long);
  });

  it('writes an empty value as length 0', () => {
    const out = encodeDhcpPacket({ ...base, options: new Map([[80, Buffer.alloc(0)]]) });
    expect(out.subarray(240, 243).toString('hex')).toBe('5000ff');
  });

  it('refuses a file name that leaves no room for the NUL, and the pad/end codes', () => {
    expect(() => encodeDhcpPacket({ ...base, file: 'x'.repeat(128) })).toThrow(RangeError);
    expect(() => encodeDhcpPacket({ ...base, options: new Map([[255, hex('00')]]) })).toThrow(/codes 1-254/);
    expect(() => encodeDhcpPacket({ ...base, options: new Map([[0, hex('00')]]) })).toThrow(/codes 1-254/);
  });
});
