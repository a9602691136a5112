import { describe, expect, it } from 'vitest';
import { WireError } from '../wire/index.ts';
import { encodeAck, encodeData, encodeDataInto, encodeError, encodeOack, encodeRequest, ErrorCode, Opcode, parsePacket } from './codec.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RRQ "pxelinux.0" octet, blksize 1468, tsize 0 — as pxelinux/iPXE send it.
const RRQ_WITH_OPTIONS = hex(`
  0001 7078656c696e75782e3000 6f6374657400
  626c6b73697a6500 3134363800 7473697a6500 3000`);
// RRQ "a/b" NETASCII (upper case, RFC 1350 says mode is case-insensitive), no options.
const RRQ_PLAIN = hex('0001 612f6200 4e4554415343494900');
const WRQ = hex('0002 6600 6f6374657400');
const DATA_7 = hex('0003 0007 deadbeef');
const ACK_65535 = hex('0004 ffff');
const ERROR_1 = hex('0005 0001 46696c65206e6f7420666f756e6400'); // "File not found"
const OACK = hex('0006 626c6b73697a6500 3134363800 77696e646f7773697a6500 313600');

describe('parsePacket', () => {
  it('parses an RRQ with options, lowercasing option names', () => {
    expect(parsePacket(RRQ_WITH_OPTIONS)).toEqual({
      opcode: Opcode.RRQ,
      filename: 'pxelinux.0',
      mode: 'octet',
      options: [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: '0' }],
    });
    const upper = hex('0001 6600 6f6374657400 424c4b53495a4500 35313200'); // BLKSIZE 512
    expect(parsePacket(upper)).toMatchObject({ options: [{ name: 'blksize', value: '512' }] });
  });

  it('parses an RRQ without options and lowercases the mode', () => {
    expect(parsePacket(RRQ_PLAIN)).toEqual({ opcode: Opcode.RRQ, filename: 'a/b', mode: 'netascii', options: [] });
  });

  it('ignores NUL padding after the last option', () => {
    const padded = Buffer.concat([RRQ_PLAIN, hex('000000')]);
    expect(parsePacket(padded)).toMatchObject({ filename: 'a/b', options: [] });
  });

  it('parses WRQ, DATA, ACK, ERROR and OACK', () => {
    expect(parsePacket(WRQ)).toEqual({ opcode: Opcode.WRQ, filename: 'f', mode: 'octet', options: [] });
    expect(parsePacket(DATA_7)).toEqual({ opcode: Opcode.DATA, block: 7, data: hex('deadbeef') });
    expect(parsePacket(hex('0003 0001'))).toEqual({ opcode: Opcode.DATA, block: 1, data: Buffer.alloc(0) });
    expect(parsePacket(ACK_65535)).toEqual({ opcode: Opcode.ACK, block: 65535 });
    expect(parsePacket(ERROR_1)).toEqual({ opcode: Opcode.ERROR, code: 1, message: 'File not found' });
    expect(parsePacket(OACK)).toEqual({
      opcode: Opcode.OACK,
      options: [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }],
    });
  });

  it('accepts an ERROR message without its NUL and an ACK with padding', () => {
    expect(parsePacket(hex('0005 0000 6f6f7073'))).toEqual({ opcode: Opcode.ERROR, code: 0, message: 'oops' });
    expect(parsePacket(hex('0004 0002 0000'))).toEqual({ opcode: Opcode.ACK, block: 2 });
  });

  it('throws WireError for a request cut at every byte', () => {
    // Cut inside the opcode, the filename, the mode, an option name and an option value.
    for (let cut = 0; cut < RRQ_WITH_OPTIONS.length; cut++) {
      const part = RRQ_WITH_OPTIONS.subarray(0, cut);
      // Cut right after the mode (19) or after the first name/value pair (32): complete packets.
      if (cut === 19 || cut === 32) {
        expect(parsePacket(part)).toMatchObject({ filename: 'pxelinux.0', options: cut === 19 ? [] : [{ name: 'blksize', value: '1468' }] });
        continue;
      }
      expect(() => parsePacket(part), `cut at ${cut}`).toThrow(WireError);
    }
  });

  it('throws WireError for short DATA/ACK/ERROR, unknown opcodes and bad strings', () => {
    for (const bad of ['', '00', '0003', '000300', '0004', '000400', '0005', '000500', '0000', '0007 0001', 'ffff']) {
      expect(() => parsePacket(hex(bad)), bad).toThrow(WireError);
    }
    expect(() => parsePacket(hex('0001 6600 6f6374657400 0031 3200'))).toThrow(/empty option name/);
    expect(() => parsePacket(hex('0001 ff00 6f6374657400'))).toThrow(/UTF-8/);
    expect(() => parsePacket(hex('0001 6600 6f6374657400 7473697a6500'))).toThrow(/value of option tsize/);
  });
});

describe('encode', () => {
  it('encodes requests, DATA, ACK, ERROR and OACK to the wire bytes', () => {
    expect(encodeRequest({ opcode: Opcode.RRQ, filename: 'pxelinux.0', mode: 'octet', options: [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: '0' }] }))
      .toEqual(RRQ_WITH_OPTIONS);
    expect(encodeRequest({ opcode: Opcode.WRQ, filename: 'f', mode: 'octet' })).toEqual(WRQ);
    expect(encodeData(7, hex('deadbeef'))).toEqual(DATA_7);
    expect(encodeData(65536 + 7, hex('deadbeef'))).toEqual(DATA_7); // block numbers wrap at 16 bits
    expect(encodeAck(65535)).toEqual(ACK_65535);
    const target = Buffer.alloc(10, 0xee);
    expect(encodeDataInto(target, 65536 + 7, hex('deadbeef'))).toEqual(DATA_7);
    expect(target).toEqual(hex('0003 0007 deadbeef eeee')); // the rest of the buffer is untouched
    expect(encodeDataInto(target, 8, hex('01020304 0506'))).toBe(target); // a full buffer is the packet itself
    expect(encodeError(ErrorCode.FILE_NOT_FOUND, 'File not found')).toEqual(ERROR_1);
    expect(encodeOack([{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }])).toEqual(OACK);
  });

  it('names the RFC 1350 and RFC 2347 codes with their wire values', () => {
    expect(Opcode).toEqual({ RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 });
    expect(ErrorCode.ACCESS_VIOLATION).toBe(2);
    expect(ErrorCode.UNKNOWN_TID).toBe(5);
    expect(ErrorCode.OPTION_REFUSED).toBe(8);
  });
});
