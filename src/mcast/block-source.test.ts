import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { BlockSource, openSourceFile } from './block-source.ts';
import { FecCodec } from './fec.ts';
import { layoutFor } from './layout.ts';

const dirs: string[] = [];
function file(content: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'trowel-blocks-'));
  dirs.push(dir);
  const path = join(dir, 'stream');
  writeFileSync(path, content);
  return path;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('BlockSource', () => {
  const data = randomBytes(1000); // blocks of 64, groups of 4: 16 blocks, the last 40 bytes
  const layout = layoutFor(data.length, 64, 4);

  it('gives each block its bytes, the short last one included', () => {
    const path = file(data);
    const { fd, size } = openSourceFile(path);
    expect(size).toBe(1000);
    const source = new BlockSource(fd, path, layout);
    for (const b of [0, 5, 3, 15]) expect(Buffer.from(source.dataRun(b, 1)).equals(data.subarray(b * 64, Math.min(1000, (b + 1) * 64)))).toBe(true);
    source.close();
  });

  it('gives a run of consecutive blocks of one group as one view, and refuses a run past its group', () => {
    const path = file(data);
    const source = new BlockSource(openSourceFile(path).fd, path, layout);
    expect(Buffer.from(source.dataRun(4, 2)).equals(data.subarray(256, 384))).toBe(true);
    expect(Buffer.from(source.dataRun(13, 3)).equals(data.subarray(832, 1000))).toBe(true);
    expect(() => source.dataRun(6, 3)).toThrow(RangeError);
    source.close();
  });

  it('computes a group\'s parity like the codec over the same blocks, and resends a block', () => {
    const path = file(data);
    const source = new BlockSource(openSourceFile(path).fd, path, layout);
    const codec = new FecCodec(4, 64);
    codec.clear(4);
    for (let i = 0; i < 4; i++) codec.block(i).set(data.subarray((4 + i) * 64, (5 + i) * 64));
    expect(Buffer.from(source.parity(1, 2)).equals(Buffer.from(codec.parity(4, 2)))).toBe(true);
    expect(Buffer.from(source.repairBlock(3, 3)).equals(data.subarray(960, 1000))).toBe(true);
    source.close();
  });

  it('in tee mode offers only the blocks written completely', () => {
    const path = file(data.subarray(0, 200));
    let written = 200;
    const source = new BlockSource(openSourceFile(path).fd, path, layout, () => written);
    expect(source.availableBlocks()).toBe(3);
    expect(Buffer.from(source.dataRun(2, 1)).equals(data.subarray(128, 192))).toBe(true);
    writeFileSync(path, data);
    written = 1000;
    expect(source.availableBlocks()).toBe(16);
    expect(Buffer.from(source.dataRun(3, 1)).equals(data.subarray(192, 256))).toBe(true);
    source.close();
  });

  it('says which file is missing or shorter than the session', () => {
    expect(() => openSourceFile('/nonexistent/stream')).toThrow(/Cannot send \/nonexistent\/stream: ENOENT/);
    const path = file(data);
    const source = new BlockSource(openSourceFile(path).fd, path, layout);
    truncateSync(path, 100);
    expect(() => source.dataRun(8, 1)).toThrow(TrowelError);
    source.close();
  });
});
