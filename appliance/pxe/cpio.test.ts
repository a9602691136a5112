import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodeNewcHeader, headerFor, writeCpio, type CpioEntry } from './cpio.ts';

/** Collects everything written, in order. */
function sink(): { out: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { out, bytes: () => Buffer.concat(chunks) };
}

// Expected headers are spelled out field by field (magic, ino, mode, uid, gid,
// nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check).
const hdr = (fields: string[], name: string) => Buffer.from('070701' + fields.join('') + name, 'latin1');

describe('encodeNewcHeader', () => {
  it('encodeNewcHeader writes 13 hex fields, the NUL-terminated name, and pads to 4 bytes', () => {
    const got = encodeNewcHeader({ ino: 1, mode: 0o100644, nlink: 1, mtime: 0x5f5e100, fileSize: 5, rdevMajor: 0, rdevMinor: 0, name: 'ab' });
    const expected = hdr(
      ['00000001', '000081a4', '00000000', '00000000', '00000001', '05f5e100', '00000005', '00000000', '00000000', '00000000', '00000000', '00000003', '00000000'],
      'ab\0\0\0\0', // 110 + 3 = 113 bytes, padded to 116
    );
    expect(got).toEqual(expected);
    expect(got.length).toBe(116);
  });

  it('encodeNewcHeader needs no padding when header and name end on a 4-byte boundary', () => {
    const got = encodeNewcHeader({ ino: 2, mode: 0o040755, nlink: 2, mtime: 0, fileSize: 0, rdevMajor: 0, rdevMinor: 0, name: 'a' });
    expect(got.length).toBe(112);
    expect(got.subarray(110).toString('hex')).toBe('6100');
  });

  it('encodeNewcHeader refuses a value that does not fit 8 hex digits', () => {
    expect(() => encodeNewcHeader({ ino: 1, mode: 0, nlink: 1, mtime: 0, fileSize: 2 ** 32, rdevMajor: 0, rdevMinor: 0, name: 'big' }))
      .toThrow(RangeError);
  });
});

describe('headerFor', () => {
  it('headerFor sets the type bits and the device numbers of a character device', () => {
    expect(headerFor({ type: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 }, 7, 0)).toEqual({
      ino: 7, mode: 0o020600, nlink: 1, mtime: 0, fileSize: 0, rdevMajor: 5, rdevMinor: 1, name: 'dev/console',
    });
  });

  it('headerFor gives a symlink mode 0777 and its target length as size', () => {
    const h = headerFor({ type: 'symlink', path: 'bin', target: 'usr/bin' }, 3, 0);
    expect([h.mode, h.fileSize]).toEqual([0o120777, 7]);
  });
});

describe('writeCpio', () => {
  it('writeCpio writes each entry, pads data to 4 bytes and ends with the trailer', async () => {
    const entries: CpioEntry[] = [
      { type: 'dir', path: 'd', mode: 0o755 },
      { type: 'file', path: 'd/f', mode: 0o644, data: Buffer.from('hi!\n\n') },
      { type: 'symlink', path: 'l', target: 'd/f' },
    ];
    const { out, bytes } = sink();
    const size = await writeCpio(entries, out, 0);
    const z = '00000000';
    const expected = Buffer.concat([
      hdr(['00000001', '000041ed', z, z, '00000002', z, z, z, z, z, z, '00000002', z], 'd\0'),
      hdr(['00000002', '000081a4', z, z, '00000001', z, '00000005', z, z, z, z, '00000004', z], 'd/f\0\0\0'),
      Buffer.from('hi!\n\n\0\0\0', 'latin1'),
      hdr(['00000003', '0000a1ff', z, z, '00000001', z, '00000003', z, z, z, z, '00000002', z], 'l\0'),
      Buffer.from('d/f\0', 'latin1'),
      hdr([z, z, z, z, '00000001', z, z, z, z, z, z, '0000000b', z], 'TRAILER!!!\0\0\0\0'),
    ]);
    expect(bytes().toString('latin1')).toBe(expected.toString('latin1'));
    expect(size).toBe(expected.length);
  });

  it('writeCpio refuses absolute paths', async () => {
    const { out } = sink();
    await expect(writeCpio([{ type: 'dir', path: '/etc', mode: 0o755 }], out)).rejects.toThrow(/relative path/);
  });
});
