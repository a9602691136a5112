import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WireError } from '../wire/index.ts';
import { referenceMac } from '../../test/helpers/mcast-reference-mac.ts';
import { PacketAuth } from './mac.ts';
import {
  DATA_HEADER_LENGTH, dataBlock, dataPayloadLength, dataSeq, decodePacket, encodePacket, packetOfSession, encodePacketInto, foreignVersion, isDataPacket, type McastPacket, PacketType,
  PARITY_HEADER_LENGTH, peekSession, peekType, Phase, sealData, sealParity,
} from './packet.ts';

const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const auth = new PacketAuth(key);

/** The expected bytes, built from hex fields and the MAC's reference, never by the encoder under test. */
function built(hexFields: string[], payload = Buffer.alloc(0)): Buffer {
  const body = Buffer.concat([Buffer.from(hexFields.join('').replace(/\s+/g, ''), 'hex'), payload]);
  return Buffer.concat([body, referenceMac(key, body)]);
}

const HEADER = (type: string) => `5457 04 ${type} 0000002a`; // magic "TW", version 4, type, session 42

const cases: { name: string; bytes: Buffer; packet: McastPacket }[] = [
  {
    name: 'ANNOUNCE',
    bytes: built([HEADER('01'), '01 00', '059c', '00000001 00000010', '00b6db6e', '0040', '0002', '000dbba0', 'c350', '00000005', '00000004', '00000003', '0032', '0100']),
    packet: {
      type: PacketType.ANNOUNCE, session: 42, phase: Phase.SENDING, blockSize: 1436, totalBytes: 2 ** 32 + 16, blockCount: 0xb6db6e, groupSize: 64,
      proactiveParity: 2, rateKbps: 900000, controlPort: 50000, availableBlocks: 5, nextBlock: 4, seq: 3, statusIntervalMs: 50, ackEvery: 256,
    },
  },
  { name: 'JOIN', bytes: built([HEADER('02'), 'deadbeef', '00000001']), packet: { type: PacketType.JOIN, session: 42, receiver: 0xdeadbeef, report: 1 } },
  {
    name: 'STATUS',
    bytes: built([HEADER('03'), '00000007', '0000002a', '00001000', '00000100', '00000200', '00000400', '00000ff0', '00000040', '00800000', '0002', '00000003 01 00000004 00000000', '00000009 40 ffffffff 80000000']),
    packet: {
      type: PacketType.STATUS, session: 42, receiver: 7, report: 42, seq: 4096, contiguous: 256, complete: 512, rateKiBps: 1024, received: 4080, firstBlock: 64,
      receiveBuffer: 8 << 20, needs: [{ group: 3, missing: 1, maskLow: 0b100, maskHigh: 0 }, { group: 9, missing: 64, maskLow: 0xffffffff, maskHigh: 0x80000000 }],
    },
  },
  {
    name: 'DATA',
    bytes: built([HEADER('04'), '00000011', '00000022'], Buffer.from('hello')),
    packet: { type: PacketType.DATA, session: 42, seq: 17, block: 34, payload: Buffer.from('hello') },
  },
  {
    name: 'PARITY',
    bytes: built([HEADER('05'), '00000011', '00000003', '0007'], Buffer.from('parity')),
    packet: { type: PacketType.PARITY, session: 42, seq: 17, group: 3, index: 7, payload: Buffer.from('parity') },
  },
  { name: 'DROP', bytes: built([HEADER('06'), '00000007', '02']), packet: { type: PacketType.DROP, session: 42, receiver: 7, reason: 2 } },
  { name: 'END', bytes: built([HEADER('07'), '00000063', '00000010', '01']), packet: { type: PacketType.END, session: 42, seq: 99, blockCount: 16, final: true } },
  { name: 'DONE', bytes: built([HEADER('08'), '00000007', 'ffffffff', '00']), packet: { type: PacketType.DONE, session: 42, receiver: 7, report: 0xffffffff, ack: false } },
];

describe('decodePacket', () => {
  for (const c of cases) {
    it(`parses ${c.name} built independently`, () => {
      expect(decodePacket(c.bytes, auth)).toEqual(c.packet);
    });
    it(`rejects ${c.name} cut at any length`, () => {
      for (let n = 0; n < c.bytes.length; n++) expect(() => decodePacket(c.bytes.subarray(0, n), auth)).toThrow(WireError);
    });
  }

  it('rejects a packet signed with another key', () => {
    const other = new PacketAuth(randomBytes(32));
    expect(() => decodePacket(encodePacket(cases[1]!.packet, other), auth)).toThrow(/MAC/);
  });

  it('rejects any single flipped bit', () => {
    const bytes = cases[2]!.bytes;
    for (let i = 0; i < bytes.length; i++) {
      const forged = Buffer.from(bytes);
      forged[i] = forged[i]! ^ 0x10;
      expect(() => decodePacket(forged, auth)).toThrow(WireError);
    }
  });

  it('rejects wrong magic, version, unknown type and stray bytes even when correctly signed', () => {
    expect(() => decodePacket(built(['5458 02 02 0000002a', '00000001']), auth)).toThrow(/not a trowel multicast packet/);
    expect(() => decodePacket(built(['5457 02 02 0000002a', '00000001']), auth)).toThrow(/of version 4/);
    expect(() => decodePacket(built(['5457 04 63 0000002a', '00000001']), auth)).toThrow(/unknown type/);
    expect(() => decodePacket(built([HEADER('02'), '00000001 00000001 ff']), auth)).toThrow(/stray/);
    expect(() => decodePacket(built([HEADER('06'), '00000001 09']), auth)).toThrow(/reason/);
    expect(() => decodePacket(built([HEADER('03'), '00'.repeat(38), '0003', '00000001 01']), auth)).toThrow(/STATUS/);
  });

  it('tells a packet of another trowel release (its version) from one of ours and from noise', () => {
    expect(foreignVersion(built(['5457 03 01 0000002a', '00000001']))).toBe(3);
    expect(foreignVersion(built(['5457 05 02 0000002a']))).toBe(5);
    expect(foreignVersion(built([HEADER('02'), '00000001 00000001']))).toBeUndefined();
    expect(foreignVersion(built(['5458 03 01 0000002a']))).toBeUndefined();
    expect(foreignVersion(Buffer.from('5457', 'hex'))).toBeUndefined();
  });

  it('rejects random garbage without throwing anything but WireError', () => {
    for (let i = 0; i < 2000; i++) {
      const garbage = randomBytes(Math.floor(Math.random() * 100));
      if (i % 2 === 0 && garbage.length >= 8) garbage.writeUInt32BE(0x54570204, 0);
      expect(() => decodePacket(garbage, auth)).toThrow(WireError);
    }
  });
});

describe('packetOfSession', () => {
  it('returns a packet of this session and undefined for a forged, truncated or other session\'s one', () => {
    const bytes = cases[1]!.bytes;
    expect(packetOfSession(bytes, auth, 42)).toEqual(cases[1]!.packet);
    expect(packetOfSession(bytes, auth, 43)).toBeUndefined();
    expect(packetOfSession(encodePacket(cases[1]!.packet, new PacketAuth(randomBytes(32))), auth, 42)).toBeUndefined();
    expect(packetOfSession(bytes.subarray(0, 5), auth, 42)).toBeUndefined();
  });
});

describe('encodePacket', () => {
  for (const c of cases) {
    it(`writes ${c.name} byte for byte`, () => {
      expect(encodePacket(c.packet, auth).toString('hex')).toBe(c.bytes.toString('hex'));
    });
  }

  it('encodePacketInto writes into a reused buffer and returns the length', () => {
    const out = Buffer.alloc(200, 0xff);
    const n = encodePacketInto(out, cases[6]!.packet, auth);
    expect(out.subarray(0, n).equals(cases[6]!.bytes)).toBe(true);
  });

  it('refuses more STATUS needs than fit a 1500-byte packet', () => {
    const status = cases[2]!.packet;
    const needs = Array.from({ length: 109 }, (_, group) => ({ group, missing: 1, maskLow: 1, maskHigh: 0 }));
    expect(() => encodePacket({ ...status, needs } as McastPacket, auth)).toThrow(RangeError);
  });
});

describe('sealData / sealParity', () => {
  it('frame a payload already in place exactly like encodePacket', () => {
    const frame = Buffer.alloc(64);
    frame.write('hello', DATA_HEADER_LENGTH);
    const n = sealData(frame, 42, 17, 34, 5, auth);
    expect(frame.subarray(0, n).equals(cases[3]!.bytes)).toBe(true);
    frame.write('parity', PARITY_HEADER_LENGTH);
    const m = sealParity(frame, 42, 17, 3, 7, 6, auth);
    expect(frame.subarray(0, m).equals(cases[4]!.bytes)).toBe(true);
  });
});

describe('in-place DATA readers', () => {
  it('read the fields of a DATA packet without decoding it', () => {
    const data = cases[3]!.bytes;
    expect(isDataPacket(data)).toBe(true);
    expect([peekType(data), peekSession(data), dataSeq(data), dataBlock(data), dataPayloadLength(data)]).toEqual([PacketType.DATA, 42, 17, 34, 5]);
    expect(data.subarray(DATA_HEADER_LENGTH, DATA_HEADER_LENGTH + 5).toString()).toBe('hello');
  });

  it('tell other packets and foreign or short ones apart', () => {
    expect(isDataPacket(cases[1]!.bytes)).toBe(false);
    expect(peekType(cases[1]!.bytes)).toBe(PacketType.JOIN);
    expect(isDataPacket(cases[3]!.bytes.subarray(0, DATA_HEADER_LENGTH + 15))).toBe(false);
    expect(peekType(Buffer.from('GET / HTTP/1.1\r\n\r\nxxxxxxxxxx'))).toBe(0);
  });
});
