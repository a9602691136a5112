import { describe, expect, it } from 'vitest';
import { BufferSource, type ByteSource } from './source.ts';
import { ReadTransfer, type Step } from './transfer.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** Deterministic content so reassembly errors show up. */
const content = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
/** DATA block numbers in a step, read straight off the wire bytes. */
const blocks = (step: Step) => step.send.map((p) => {
  expect(p.readUInt16BE(0)).toBe(3);
  return p.readUInt16BE(2);
});

function transfer(data: Buffer, blockSize: number, windowSize = 1, extra: { oack?: Buffer; maxRetries?: number } = {}) {
  return new ReadTransfer({ source: new BufferSource(data), blockSize, windowSize, maxRetries: extra.maxRetries ?? 3, oack: extra.oack });
}

describe('ReadTransfer lock-step', () => {
  it('sends a full block then the short final block, and ends on its ACK', async () => {
    const t = transfer(content(12), 8);
    const first = await t.start();
    expect(first.send).toEqual([hex('0003 0001 00070e151c232a31')]);
    expect(first).toMatchObject({ bytes: 8, restartTimer: true });
    const second = await t.ack(1);
    expect(second.send).toEqual([hex('0003 0002 383f464d')]);
    expect(await t.ack(2)).toEqual({ send: [], bytes: 0, restartTimer: false, done: 'ok' });
    expect(t.finished).toBe(true);
    expect(t.delivered).toBe(12);
  });

  it('ends a file that is a multiple of the block size with an empty block', async () => {
    const t = transfer(content(16), 8);
    await t.start();
    await t.ack(1);
    const last = await t.ack(2);
    expect(last.send).toEqual([hex('0003 0003')]);
    expect((await t.ack(3)).done).toBe('ok');
  });

  it('sends one empty block for an empty file', async () => {
    const t = transfer(Buffer.alloc(0), 512);
    expect((await t.start()).send).toEqual([hex('0003 0001')]);
    expect((await t.ack(1)).done).toBe('ok');
  });

  it('never answers a duplicate or old ACK (no Sorcerer\'s Apprentice)', async () => {
    const t = transfer(content(40), 8);
    await t.start();
    await t.ack(1);
    await t.ack(2);
    for (const stale of [2, 1, 0, 2]) expect(await t.ack(stale)).toEqual({ send: [], bytes: 0, restartTimer: false });
    expect(blocks(await t.ack(3))).toEqual([4]);
  });

  it('ignores an ACK for a block not sent yet', async () => {
    const t = transfer(content(40), 8);
    await t.start();
    expect((await t.ack(2)).send).toEqual([]);
    expect((await t.ack(40000)).send).toEqual([]);
    expect(blocks(await t.ack(1))).toEqual([2]);
  });

  it('sends each block once when the network duplicates every DATA and the client ACKs each copy', async () => {
    const size = 8 * 200 + 3;
    const t = transfer(content(size), 8);
    let sent = 0;
    let pending = (await t.start()).send;
    let done: string | undefined;
    while (pending.length > 0) {
      const next: Buffer[] = [];
      sent += pending.length;
      for (const p of pending) {
        for (let copy = 0; copy < 2; copy++) {
          const step = await t.ack(p.readUInt16BE(2)); // the client ACKs every copy it receives
          next.push(...step.send);
          done ??= step.done;
        }
      }
      pending = next;
    }
    expect(done).toBe('ok');
    expect(sent).toBe(201);
  });
});

describe('ReadTransfer timeouts', () => {
  it('resends the same packet on each timeout and gives up after maxRetries', async () => {
    const t = transfer(content(20), 8, 1, { maxRetries: 3 });
    const first = await t.start();
    for (let i = 0; i < 3; i++) {
      const again = t.timeout();
      expect(again.send).toEqual(first.send);
      expect(again.restartTimer).toBe(true);
    }
    expect(t.timeout()).toEqual({ send: [], bytes: 0, restartTimer: false, done: 'timeout' });
    expect((await t.ack(1)).send).toEqual([]);
  });

  it('resets the retry count when an ACK makes progress', async () => {
    const t = transfer(content(40), 8, 1, { maxRetries: 2 });
    await t.start();
    t.timeout();
    t.timeout();
    await t.ack(1);
    expect(blocks(t.timeout())).toEqual([2]);
    expect(blocks(t.timeout())).toEqual([2]);
    expect(t.timeout().done).toBe('timeout');
  });

  it('resends the whole unacknowledged window on timeout', async () => {
    const t = transfer(content(100), 8, 4);
    await t.start();
    await t.ack(2);
    expect(blocks(t.timeout())).toEqual([3, 4, 5, 6]);
  });
});

describe('ReadTransfer with OACK', () => {
  const oack = hex('0006 626c6b73697a6500 3800'); // blksize 8

  it('sends the OACK first, resends it on timeout, and starts DATA on ACK 0', async () => {
    const t = transfer(content(10), 8, 1, { oack });
    expect((await t.start()).send).toEqual([oack]);
    expect((await t.ack(1)).send).toEqual([]);
    expect(t.timeout().send).toEqual([oack]);
    expect(blocks(await t.ack(0))).toEqual([1]);
    expect(blocks(await t.ack(1))).toEqual([2]);
    expect((await t.ack(2)).done).toBe('ok');
  });

  it('ends without sending anything when the client answers the OACK with an ERROR', async () => {
    const t = transfer(content(10), 8, 1, { oack });
    await t.start();
    expect(t.clientError()).toEqual({ send: [], bytes: 0, restartTimer: false, done: 'error' });
    expect((await t.ack(0)).send).toEqual([]);
    expect(t.timeout().send).toEqual([]);
  });
});

describe('ReadTransfer windows (RFC 7440)', () => {
  it('sends a window, the next window on its last ACK, and restarts after a partial ACK', async () => {
    const t = transfer(content(8 * 10), 8, 4); // blocks 1..10 full, 11 empty
    expect(blocks(await t.start())).toEqual([1, 2, 3, 4]);
    expect(blocks(await t.ack(4))).toEqual([5, 6, 7, 8]);
    // The client lost 7: it ACKs 6; the window restarts at 7.
    const restart = await t.ack(6);
    expect(blocks(restart)).toEqual([7, 8, 9, 10]);
    expect(restart.bytes).toBe(32);
    // Late copies of its earlier ACKs change nothing.
    expect((await t.ack(6)).send).toEqual([]);
    expect((await t.ack(4)).send).toEqual([]);
    expect(blocks(await t.ack(10))).toEqual([11]);
    expect((await t.ack(11)).done).toBe('ok');
    expect(t.delivered).toBe(80);
  });

  it('stops the window at the final block', async () => {
    const t = transfer(content(20), 8, 16);
    const step = await t.start();
    expect(blocks(step)).toEqual([1, 2, 3]);
    expect(step.send[2]).toEqual(hex('0003 0003 70777e85'));
    expect((await t.ack(3)).done).toBe('ok');
  });
});

describe('ReadTransfer block number rollover', () => {
  /** A client that ACKs the last block of each window, or of the file, by its 16-bit number. */
  async function receive(t: ReadTransfer, windowSize: number, blockSize: number): Promise<{ data: Buffer; wire: number[] }> {
    const parts: Buffer[] = [];
    const wire: number[] = [];
    let step = await t.start();
    let biggest = 0;
    while (!step.done) {
      // Plain checks in the loop: 65k expect() calls would dominate the run time.
      if (step.send.length === 0) throw new Error(`transfer stalled after block ${wire.at(-1)}`);
      biggest = Math.max(biggest, step.send.length);
      let last = 0;
      for (const p of step.send) {
        last = p.readUInt16BE(2);
        wire.push(last);
        parts.push(Buffer.from(p.subarray(4))); // a copy: the transfer reuses acknowledged packets' buffers
        if (p.length - 4 < blockSize) break;
      }
      step = await t.ack(last);
    }
    expect(step.done).toBe('ok');
    expect(biggest).toBe(windowSize);
    return { data: Buffer.concat(parts), wire };
  }

  it('wraps from 65535 to 0 in lock-step and delivers every byte', async () => {
    const size = 8 * 65540 + 5; // 65541 blocks
    const data = content(size);
    const { data: got, wire } = await receive(transfer(data, 8), 1, 8);
    expect(wire.length).toBe(65541);
    expect(wire.slice(65533, 65541)).toEqual([65534, 65535, 0, 1, 2, 3, 4, 5]);
    expect(got.equals(data)).toBe(true);
  });

  it('wraps inside a window', async () => {
    const size = 8 * 65545; // a multiple: ends with an empty block 65546 (wire 10)
    const data = content(size);
    const { data: got, wire } = await receive(transfer(data, 8, 16), 16, 8);
    expect(wire.slice(65532, 65540)).toEqual([65533, 65534, 65535, 0, 1, 2, 3, 4]);
    expect(wire.at(-1)).toBe(10);
    expect(got.equals(data)).toBe(true);
  });

  it('treats an ACK from before the wrap as old after it', async () => {
    const t = transfer(content(8 * 65600), 8);
    let step = await t.start();
    for (let b = 1; b <= 65537; b++) step = await t.ack(b & 0xffff);
    expect(blocks(step)).toEqual([2]); // block 65538
    expect((await t.ack(65535)).send).toEqual([]);
    expect((await t.ack(1)).send).toEqual([]);
    expect(blocks(await t.ack(2))).toEqual([3]);
  });
});

describe('ReadTransfer steps, synchronous or not', () => {
  it('returns each step at once (no Promise) when the source has the bytes in memory', () => {
    const t = transfer(content(20), 8);
    const first = t.start();
    expect(first).not.toBeInstanceOf(Promise);
    expect((first as Step).send).toEqual([hex('0003 0001 00070e151c232a31')]);
    const second = t.ack(1);
    expect(second).not.toBeInstanceOf(Promise);
    expect(blocks(second as Step)).toEqual([2]);
  });

  it('returns a Promise of the step when the source has to wait, with the blocks in order', async () => {
    const data = content(20);
    const inner = new BufferSource(data);
    // Every other read waits, like a read-ahead that has not landed.
    let n = 0;
    const slow: ByteSource = {
      size: data.length,
      read: (length) => {
        const bytes = Buffer.from(inner.read(length) as Buffer);
        return n++ % 2 ? new Promise((resolve) => setTimeout(() => resolve(bytes), 5)) : bytes;
      },
      close: () => Promise.resolve(),
    };
    const t = new ReadTransfer({ source: slow, blockSize: 8, windowSize: 4, maxRetries: 3 });
    const step = t.start();
    expect(step).toBeInstanceOf(Promise);
    const got = await step;
    expect(got.send).toEqual([hex('0003 0001 00070e151c232a31'), hex('0003 0002 383f464d545b6269'), hex('0003 0003 70777e85')]);
    expect(got.bytes).toBe(20);
    expect((await t.ack(3)).done).toBe('ok');
  });
});

describe('ReadTransfer packet buffers', () => {
  /** Acknowledges each window's last block; checks no packet changes before 2 x windowSize newer ones were acknowledged. */
  function run(windowSize: number): Set<ArrayBufferLike> {
    const t = transfer(content(8 * 200), 8, windowSize); // 200 full blocks and an empty one
    const sent: { block: number; packet: Buffer; bytes: Buffer }[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let step = t.start() as Step;
    let acked = 0;
    while (!step.done) {
      for (const p of step.send) {
        sent.push({ block: p.readUInt16BE(2), packet: p, bytes: Buffer.from(p) });
        buffers.add(p.buffer);
      }
      acked = step.send.at(-1)!.readUInt16BE(2);
      for (const s of sent) {
        if (s.block > acked - 2 * windowSize) expect(s.packet.equals(s.bytes)).toBe(true);
      }
      step = t.ack(acked) as Step;
    }
    expect(acked).toBe(201);
    return buffers;
  }

  it('reuses a handful of buffers in lock-step, never before two newer blocks were acknowledged', () => {
    expect(run(1).size).toBeLessThanOrEqual(3);
  });

  it('keeps at most 3 x windowSize buffers with a window', () => {
    expect(run(4).size).toBeLessThanOrEqual(12);
  });
});
