import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { coefficient, FecCodec, invertMatrix, maxParityRows, type ParitySymbol } from './fec.ts';
import { inv, mul } from './gf256.ts';

/** Carry-less multiply mod 0x11d, bit by bit: independent of the table code under test. */
function slowMul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    b >>= 1;
    a <<= 1;
    if (a & 0x100) a ^= 0x11d;
  }
  return p;
}

/** A seeded generator so a failing erasure pattern can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('gf256', () => {
  it('mul matches bitwise multiplication for every pair', () => {
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) if (mul(a, b) !== slowMul(a, b)) throw new Error(`${a}*${b}`);
  });
  it('inv gives the multiplicative inverse of every non-zero element', () => {
    for (let a = 1; a < 256; a++) expect(slowMul(a, inv(a))).toBe(1);
    expect(() => inv(0)).toThrow(RangeError);
  });
});

/** Puts blocks (each `size` bytes) into the codec's group. */
function load(codec: FecCodec, blocks: Uint8Array[]): void {
  codec.clear(blocks.length);
  blocks.forEach((b, i) => codec.block(i).set(b));
}

describe('FecCodec.parity', () => {
  it('computes sum_i C[j][i] * D_i, checked byte by byte with bitwise arithmetic', () => {
    const k = 5;
    const codec = new FecCodec(8, 33);
    const blocks = Array.from({ length: k }, () => randomBytes(33));
    load(codec, blocks);
    for (const row of [0, 3, maxParityRows(k) - 1]) {
      const out = codec.parity(k, row);
      expect(out.length).toBe(33);
      for (let b = 0; b < 33; b++) {
        let want = 0;
        for (let i = 0; i < k; i++) want ^= slowMul(slowInv((255 - row) ^ i), blocks[i]![b]!);
        expect(out[b]).toBe(want);
      }
    }
  });

  it('refuses rows beyond 256 - k and groups larger than the codec', () => {
    const codec = new FecCodec(64, 16);
    expect(() => codec.parity(64, maxParityRows(64))).toThrow(RangeError);
    expect(() => codec.parity(65, 0)).toThrow(RangeError);
    expect(() => new FecCodec(256, 16)).toThrow(RangeError);
  });
});

function slowInv(a: number): number {
  for (let x = 1; x < 256; x++) if (slowMul(a, x) === 1) return x;
  throw new Error('no inverse');
}

describe('invertMatrix', () => {
  it('inverts Cauchy submatrices: M * M^-1 = I', () => {
    const m = [0, 7, 100].map((row) => Uint8Array.from([1, 9, 200], (col) => coefficient(row, col)));
    const mi = invertMatrix(m);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let j = 0; j < 3; j++) s ^= slowMul(m[r]![j]!, mi[j]![c]!);
        expect(s).toBe(r === c ? 1 : 0);
      }
    }
  });
  it('throws RangeError on a singular matrix', () => {
    expect(() => invertMatrix([Uint8Array.from([1, 2]), Uint8Array.from([1, 2])])).toThrow(RangeError);
  });
});

describe('FecCodec.recover', () => {
  function parityOf(codec: FecCodec, k: number, rows: number[], blocks: Uint8Array[]): ParitySymbol[] {
    load(codec, blocks);
    return rows.map((row) => ({ row, data: Uint8Array.from(codec.parity(k, row)) }));
  }

  function trial(codec: FecCodec, k: number, lost: number, extraRows: number, random: () => number): void {
    const size = codec.blockSize;
    const blocks = Array.from({ length: k }, () => randomBytes(size));
    const rowsSent = lost + extraRows;
    // Parity rows used are an arbitrary subset, as when some repairs are lost too.
    const allRows = Array.from({ length: Math.min(maxParityRows(k), rowsSent + 3) }, (_, j) => j).sort(() => random() - 0.5);
    const parity = parityOf(codec, k, allRows.slice(0, rowsSent), blocks);
    const lostIndexes = Array.from({ length: k }, (_, i) => i).sort(() => random() - 0.5).slice(0, lost);
    const present = Array.from({ length: k }, (_, i) => !lostIndexes.includes(i));
    load(codec, blocks);
    for (const i of lostIndexes) codec.block(i).fill(0xee);
    expect(codec.recover(k, present, parity)).toEqual([...lostIndexes].sort((a, b) => a - b));
    blocks.forEach((b, i) => expect(Buffer.from(codec.block(i).subarray(0, size)).equals(b)).toBe(true));
  }

  it('rebuilds random erasure patterns from random parity rows', () => {
    const random = rng(42);
    const codec = new FecCodec(64, 97); // not a multiple of 16: the SIMD tail is padding
    for (let t = 0; t < 60; t++) {
      const k = 1 + Math.floor(random() * 64);
      const lost = Math.floor(random() * (k + 1));
      trial(codec, k, lost, Math.floor(random() * 3), random);
    }
  });

  it('rebuilds a whole group of 64 from 64 parity blocks, at a real block size', () => trial(new FecCodec(64, 1436), 64, 64, 0, rng(7)));

  it('rebuilds two of a group of three', () => trial(new FecCodec(3, 8), 3, 2, 0, rng(3)));

  it('throws when fewer parity blocks than missing blocks are given', () => {
    const codec = new FecCodec(2, 4);
    expect(() => codec.recover(2, [false, false], [{ row: 0, data: new Uint8Array(4) }])).toThrow(RangeError);
  });
});
