import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.ts';
import { SpoolReader } from './spool-reader.ts';

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trowel-spool-'));
  dirs.push(dir);
  return join(dir, 'spool');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Spool', () => {
  it('puts blocks at their offsets, in or out of order, sized to the stream', () => {
    const path = tempFile();
    const data = randomBytes(10_000);
    const spool = new Spool(path, data.length);
    for (const start of [0, 1000, 2000, 9000, 5000, 3000, 4000, 6000, 8000, 7000]) spool.write(start, data.subarray(start, start + 1000));
    spool.close();
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  it('reads back what is still gathered, and writeAt overrides a gathered range', () => {
    const path = tempFile();
    const spool = new Spool(path, 300);
    spool.write(0, Buffer.alloc(100, 1));
    spool.write(100, Buffer.alloc(100, 2));
    const into = Buffer.alloc(200);
    expect(spool.readInto(0, into, 200)).toBe(200);
    expect(into[150]).toBe(2);
    spool.write(200, Buffer.alloc(100, 3));
    spool.writeAt(200, Buffer.alloc(100, 4));
    spool.close();
    expect(readFileSync(path)[250]).toBe(4);
  });
});

describe('SpoolReader', () => {
  it('streams bytes in order as the watermark moves, and ends at the total', async () => {
    const path = tempFile();
    const data = randomBytes(3 << 20);
    const spool = new Spool(path, data.length);
    let watermark = 0;
    const reader = new SpoolReader({ path: () => path, totalBytes: () => data.length, readableBytes: () => watermark, flush: () => spool.flush() });
    const chunks: Buffer[] = [];
    const done = (async () => {
      for await (const c of reader) chunks.push(c as Buffer);
    })();
    for (let off = 0; off < data.length; off += 100_000) {
      const end = Math.min(data.length, off + 100_000);
      spool.write(off, data.subarray(off, end));
      watermark = end;
      reader.notify();
      await new Promise((r) => setImmediate(r));
    }
    await done;
    spool.close();
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('waits for the size before reading anything', async () => {
    const path = tempFile();
    const state: { total?: number; spool?: Spool } = {};
    const reader = new SpoolReader({
      path: () => (state.total === undefined ? undefined : path),
      totalBytes: () => state.total,
      readableBytes: () => state.total ?? 0,
      flush: () => state.spool?.flush(),
    });
    const read = (async () => {
      const chunks: Buffer[] = [];
      for await (const c of reader) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    })();
    await new Promise((r) => setTimeout(r, 20));
    state.spool = new Spool(path, 5);
    state.spool.write(0, Buffer.from('hello'));
    state.total = 5;
    reader.notify();
    expect((await read).toString()).toBe('hello');
    state.spool.close();
  });
});
