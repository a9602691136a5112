import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createSendStreamGuard, SendStreamScanner, type SendStreamExpectation } from './send-stream-guard.ts';

// Real `btrfs send` output (btrfs-progs 6.2) of two read-only snapshots on a scratch filesystem:
// @a holds one file f = "hi\n"; @b, sent with -p @a, changes it to "ho\n".
const FULL_A = hex(
  '62747266732d73747265616d0001000000260000000100b2506a220f000200406101001000b8d2f4a977c2e64eacd87e' +
    '4af41037860200080007000000000000001c000000130002372d8c0f0000000600080000000000000000000700080000' +
    '00000000000000100000001200595575350f00000005000800ed010000000000001800000003006c6edb030f0008006f' +
    '3235372d372d30030008000101000000000000110000000900e66cf0260f0008006f3235372d372d3010000100661800' +
    '00000f00ab5d44f30f000100661200080000000000000000001300030068690a1d00000013009f4611d10f0001006606' +
    '0008000000000000000000070008000000000000000000110000001200b7cb58630f0001006605000800a40100000000' +
    '0000350000001400317d278b0f000100660b000c00ed57026b00000000d0de021e0a000c00ed57026b00000000d0de02' +
    '1e09000c00ed57026b00000000d0de021e340000001400c175fe270f0000000b000c00ed57026b00000000d0d5c51d0a' +
    '000c00ed57026b00000000d0de021e09000c00ed57026b00000000d0de021e000000001500506cc99d',
);
const INCREMENTAL_B = hex(
  '62747266732d73747265616d00010000004600000002007043c6e00f0002004062010010002a9c67ec003bf34cb04fe1' +
    'ac43ca63a702000800080000000000000014001000b8d2f4a977c2e64eacd87e4af41037861500080007000000000000' +
    '00180000000f00990c8b9a0f0001006612000800000000000000000013000300686f0a350000001400c5fcf9940f0001' +
    '00660b000c00ed57026b00000000d0de021e0a000c00ed57026b00000000d0f9b91e09000c00ed57026b00000000d0f9' +
    'b91e000000001500506cc99d',
);
// The header and first command of FULL_A, split out by hand: "btrfs-stream\0" v1, then subvol (len 0x26, cmd 1, crc 0x226a50b2).
const HEADER_LENGTH = 17;
const FIRST_COMMAND_END = HEADER_LENGTH + 10 + 0x26;
// FULL_A's first command renamed to ".receiving.1.x": new length 0x32 and crc32c computed independently (bitwise, in Python).
const RENAMED_FIRST = hex('320000000100095f8b0f0f000e002e726563656976696e672e312e7801001000b8d2f4a977c2e64eacd87e4af4103786020008000700000000000000');
const END = hex('00000000 1500 506cc99d');
const MKFILE = hex('05000000 0300 00000000 0f00 0100 66'); // mkfile "f" (later commands' checksums are btrfs receive's business)
const FULL: SendStreamExpectation = { subvolume: '@a', incremental: false };

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** Feeds `stream` cut at `splits`, returns what the scanner forwarded. */
function scan(stream: Buffer, expected = FULL, splits: number[] = []): Buffer {
  const scanner = new SendStreamScanner(expected);
  const out: Buffer[] = [];
  let from = 0;
  for (const at of [...splits, stream.length]) {
    out.push(...scanner.push(stream.subarray(from, at)));
    from = at;
  }
  scanner.end();
  return Buffer.concat(out);
}

describe('SendStreamScanner', () => {
  it('forwards a real full stream unchanged, split at every offset and fed byte by byte', () => {
    for (let i = 0; i <= FULL_A.length; i++) expect(scan(FULL_A, FULL, [i]).equals(FULL_A)).toBe(true);
    expect(scan(FULL_A, FULL, [...FULL_A.keys()].slice(1)).equals(FULL_A)).toBe(true);
  });

  it('holds the header and first command back until the first command is checked', () => {
    const scanner = new SendStreamScanner(FULL);
    expect(scanner.push(FULL_A.subarray(0, FIRST_COMMAND_END - 1))).toEqual([]);
    expect(Buffer.concat(scanner.push(FULL_A.subarray(FIRST_COMMAND_END - 1, FIRST_COMMAND_END + 3))).equals(FULL_A.subarray(0, FIRST_COMMAND_END + 3))).toBe(true);
  });

  it('accepts a real incremental stream only when an incremental one is expected', () => {
    expect(scan(INCREMENTAL_B, { subvolume: '@b', incremental: true }).equals(INCREMENTAL_B)).toBe(true);
    expect(() => scan(INCREMENTAL_B, { subvolume: '@b', incremental: false })).toThrow('Cannot accept the btrfs send stream: it starts with command 2, expected subvol (1)');
    expect(() => scan(FULL_A, { subvolume: '@a', incremental: true })).toThrow('it starts with command 1, expected snapshot (2)');
  });

  it('renames the subvolume, rewriting the first command with a new length and checksum', () => {
    for (const at of [0, 20, FIRST_COMMAND_END, 100]) {
      const out = scan(FULL_A, { ...FULL, renameTo: '.receiving.1.x' }, [at]);
      expect(out.equals(Buffer.concat([FULL_A.subarray(0, HEADER_LENGTH), RENAMED_FIRST, FULL_A.subarray(FIRST_COMMAND_END)]))).toBe(true);
    }
  });

  it('refuses a stream that creates another subvolume name', () => {
    expect(() => scan(FULL_A, { subvolume: '@b', incremental: false })).toThrow('it creates subvolume "@a", expected "@b"');
  });

  it('refuses a first command whose checksum does not match (a flipped bit in its uuid)', () => {
    const flipped = Buffer.from(FULL_A);
    flipped[HEADER_LENGTH + 10 + 8] = flipped[HEADER_LENGTH + 10 + 8]! ^ 0x01;
    expect(() => scan(flipped)).toThrow('the checksum of its first command is wrong');
  });

  it('refuses a second subvolume, even one split across chunks', () => {
    const second = FULL_A.subarray(HEADER_LENGTH, FIRST_COMMAND_END);
    const stream = Buffer.concat([FULL_A.subarray(0, FIRST_COMMAND_END), second, END]);
    for (const at of [FIRST_COMMAND_END + 1, FIRST_COMMAND_END + 9, stream.length - 1]) {
      expect(() => scan(stream, FULL, [at])).toThrow('command 2 creates a second subvolume');
    }
  });

  it('refuses bytes after the end marker', () => {
    expect(() => scan(Buffer.concat([FULL_A, MKFILE]))).toThrow('15 bytes follow the end marker');
  });

  it('refuses a stream cut anywhere before its end marker', () => {
    for (let cut = 0; cut < FULL_A.length; cut++) {
      expect(() => scan(FULL_A.subarray(0, cut))).toThrow(`it stops after ${cut} bytes, before its end marker (truncated)`);
    }
  });

  it('refuses a wrong magic, version, or a first command without a path', () => {
    expect(() => scan(hex('6274726673 2d73747265616d01 01000000'))).toThrow('it does not start with "btrfs-stream"');
    expect(() => scan(hex('6274726673 2d73747265616d00 09000000'))).toThrow('its version 9 is not 1, 2 or 3');
    const noPath = hex('6274726673 2d73747265616d00 01000000 14000000 0100 00000000 0100 1000 00112233445566778899aabbccddeeff');
    expect(() => scan(Buffer.concat([noPath, END]))).toThrow('its first command names no subvolume');
  });
});

describe('createSendStreamGuard', () => {
  it('passes the bytes through unchanged', async () => {
    const out: Buffer[] = [];
    await pipeline(Readable.from([FULL_A.subarray(0, 7), FULL_A.subarray(7)]), createSendStreamGuard(FULL), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) out.push(chunk);
    });
    expect(Buffer.concat(out).equals(FULL_A)).toBe(true);
  });

  it('fails the pipeline with the scanner error', async () => {
    const run = pipeline(Readable.from([FULL_A.subarray(0, 30)]), createSendStreamGuard(FULL), async (source: AsyncIterable<Buffer>) => {
      for await (const _ of source) void _;
    });
    await expect(run).rejects.toMatchObject({ code: 'EBADSTREAM', message: expect.stringMatching(/truncated\)$/) });
  });
});
