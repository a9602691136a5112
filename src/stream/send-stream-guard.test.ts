import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createSendStreamGuard, SendStreamScanner, type SendStreamExpectation } from './send-stream-guard.ts';

// Built by hand from the format description, not by any encoder: little-endian everywhere.
const HEADER = '6274726673 2d73747265616d00 01000000'; // "btrfs-stream\0", version 1
const UUID_TLV = '0100 1000 00112233445566778899aabbccddeeff'; // attribute 1 (uuid), 16 bytes
const subvol = (cmd: string, name: string) => {
  const path = Buffer.from(name).toString('hex');
  const tlv = `0f00 ${le16(name.length)} ${path}`;
  const payloadLength = 4 + name.length + 20;
  return `${le32(payloadLength)} ${cmd} deadbeef ${tlv} ${UUID_TLV}`;
};
const MKFILE = '05000000 0300 00000000 0f00 0100 66'; // mkfile "f"
const CHMOD_EMPTY = '00000000 1200 00000000'; // a command with no payload
const END = '00000000 1500 00000000';
const FULL: SendStreamExpectation = { subvolume: '@a', incremental: false };

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}
function le16(n: number): string {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b.toString('hex');
}
function le32(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b.toString('hex');
}
function scan(stream: Buffer, expected = FULL, splits: number[] = []): void {
  const scanner = new SendStreamScanner(expected);
  let from = 0;
  for (const at of [...splits, stream.length]) {
    scanner.push(stream.subarray(from, at));
    from = at;
  }
  scanner.end();
}

const VALID = hex(`${HEADER} ${subvol('0100', '@a')} ${MKFILE} ${CHMOD_EMPTY} ${END}`);

describe('SendStreamScanner', () => {
  it('accepts a full stream split at every offset and fed byte by byte', () => {
    for (let i = 0; i <= VALID.length; i++) expect(() => scan(VALID, FULL, [i])).not.toThrow();
    expect(() => scan(VALID, FULL, [...VALID.keys()].slice(1))).not.toThrow();
  });

  it('accepts an incremental stream that starts with snapshot', () => {
    const stream = hex(`${HEADER} ${subvol('0200', '@a')} ${END}`);
    expect(() => scan(stream, { subvolume: '@a', incremental: true })).not.toThrow();
    expect(() => scan(stream, FULL)).toThrow('Cannot accept the btrfs send stream: it starts with command 2, expected subvol (1)');
  });

  it('refuses a stream that creates another subvolume name', () => {
    expect(() => scan(VALID, { subvolume: '@b', incremental: false })).toThrow('it creates subvolume "@a", expected "@b"');
  });

  it('refuses a second subvolume, even one split across chunks', () => {
    const stream = hex(`${HEADER} ${subvol('0100', '@a')} ${subvol('0100', '@evil')} ${END}`);
    for (const at of [40, 51, 60]) expect(() => scan(stream, FULL, [at])).toThrow('command 2 creates a second subvolume');
  });

  it('refuses bytes after the end marker', () => {
    expect(() => scan(Buffer.concat([VALID, hex(MKFILE)]))).toThrow('15 bytes follow the end marker');
  });

  it('refuses a stream cut anywhere before its end marker', () => {
    for (let cut = 0; cut < VALID.length; cut++) {
      expect(() => scan(VALID.subarray(0, cut))).toThrow(`it stops after ${cut} bytes, before its end marker (truncated)`);
    }
  });

  it('refuses a wrong magic, version, or a first command without a path', () => {
    expect(() => scan(hex(`6274726673 2d73747265616d01 01000000 ${END}`))).toThrow('it does not start with "btrfs-stream"');
    expect(() => scan(hex(`6274726673 2d73747265616d00 09000000 ${END}`))).toThrow('its version 9 is not 1, 2 or 3');
    expect(() => scan(hex(`${HEADER} 14000000 0100 00000000 ${UUID_TLV} ${END}`))).toThrow('its first command names no subvolume');
  });
});

describe('createSendStreamGuard', () => {
  it('passes the bytes through unchanged', async () => {
    const out: Buffer[] = [];
    await pipeline(Readable.from([VALID.subarray(0, 7), VALID.subarray(7)]), createSendStreamGuard(FULL), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) out.push(chunk);
    });
    expect(Buffer.concat(out).equals(VALID)).toBe(true);
  });

  it('fails the pipeline with the scanner error', async () => {
    const run = pipeline(Readable.from([VALID.subarray(0, 30)]), createSendStreamGuard(FULL), async (source: AsyncIterable<Buffer>) => {
      for await (const _ of source) void _;
    });
    await expect(run).rejects.toMatchObject({ code: 'EBADSTREAM', message: expect.stringMatching(/truncated\)$/) });
  });
});
