import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferSource, FileSource, NetasciiSource, toNetascii } from './source.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('toNetascii', () => {
  it('turns LF into CR LF and a bare CR into CR NUL (RFC 764)', () => {
    expect(toNetascii(Buffer.from('a\nb\rc'))).toEqual(hex('61 0d0a 62 0d00 63'));
    expect(toNetascii(Buffer.from('\r\n'))).toEqual(hex('0d00 0d0a'));
    expect(toNetascii(Buffer.from('plain'))).toEqual(Buffer.from('plain'));
  });
});

describe('NetasciiSource', () => {
  it('cuts the converted stream into exact blocks and reports no size', async () => {
    const source = new NetasciiSource(new BufferSource(Buffer.from('ab\ncd\n')));
    expect(source.size).toBeUndefined();
    const got: string[] = [];
    for (;;) {
      const block = await source.read(3);
      got.push(Buffer.from(block).toString('hex'));
      if (block.length < 3) break;
    }
    expect(got).toEqual(['61620d', '0a6364', '0d0a']);
  });
});

describe('FileSource', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function fileOf(data: Buffer): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'trowel-tftp-src-'));
    dirs.push(dir);
    await writeFile(join(dir, 'f'), data);
    return join(dir, 'f');
  }

  it('reads a file several read-ahead chunks long in exact pieces, blocks straddling chunk ends included', async () => {
    // 1468 does not divide the 256 KiB chunk, so some blocks span two chunks.
    const data = Buffer.from(Array.from({ length: 800_003 }, (_, i) => (i * 31 + (i >> 12)) & 0xff));
    const source = new FileSource(await open(await fileOf(data)), data.length, 1468);
    const parts: Buffer[] = [];
    for (;;) {
      const block = await source.read(1468);
      parts.push(Buffer.from(block));
      if (block.length < 1468) break;
    }
    await source.close();
    expect(parts.length).toBe(Math.floor(800_003 / 1468) + 1);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it('answers from memory without a Promise once its read-ahead has landed', async () => {
    const data = Buffer.alloc(10_000, 0xab);
    const source = new FileSource(await open(await fileOf(data)), data.length, 512);
    const first = await source.read(512); // waits for the first read
    expect(first.length).toBe(512);
    const next = source.read(512);
    expect(Buffer.isBuffer(next)).toBe(true);
    expect(next).toEqual(Buffer.alloc(512, 0xab));
    await source.close();
  });

  it('ends an empty file with an empty read', async () => {
    const source = new FileSource(await open(await fileOf(Buffer.alloc(0))), 0, 512);
    expect((await source.read(512)).length).toBe(0);
    expect((await source.read(512)).length).toBe(0);
    await source.close();
  });
});
