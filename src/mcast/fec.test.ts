import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { coefficient, encodeParity, invertMatrix, maxParityRows, recoverBlocks } from './fec.ts';
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

describe('encodeParity', () => {
  it('computes sum_i C[j][i] * D_i byte by byte', () => {
    const k = 5;
    const blocks = Array.from({ length: k }, () => randomBytes(33));
    const out = new Uint8Array(33);
    encodeParity(k, 3, Buffer.concat(blocks), 33, out);
    for (let b = 0; b < 33; b++) {
      let want = 0;
      for (let i = 0; i < k; i++) want ^= slowMul(slowInv((255 - 3) ^ i), blocks[i]![b]!);
      expect(out[b]).toBe(want);
    }
  });
  it('refuses rows beyond 256 - k and group sizes outside 1..255', () => {
    const out = new Uint8Array(4);
    expect(() => encodeParity(64, maxParityRows(64), new Uint8Array(256), 4, out)).toThrow(RangeError);
    expect(() => encodeParity(0, 0, new Uint8Array(4), 4, out)).toThrow(RangeError);
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

describe('recoverBlocks', () => {
  const length = 97;

  function parityOf(k: number, rows: number[], group: Uint8Array, blockSize: number) {
    return rows.map((row) => {
      const out = new Uint8Array(blockSize);
      encodeParity(k, row, group, blockSize, out);
      return { row, data: out };
    });
  }

  function trial(k: number, lost: number, extraRows: number, random: () => number): void {
    const original = randomBytes(k * length);
    const rowsSent = lost + extraRows;
    // Parity rows used are an arbitrary subset, as when some repairs are lost too.
    const allRows = Array.from({ length: Math.min(maxParityRows(k), rowsSent + 3) }, (_, j) => j).sort(() => random() - 0.5);
    const parity = parityOf(k, allRows.slice(0, rowsSent), original, length);
    const lostIndexes = Array.from({ length: k }, (_, i) => i).sort(() => random() - 0.5).slice(0, lost);
    const present = Array.from({ length: k }, (_, i) => !lostIndexes.includes(i));
    const damaged = Buffer.from(original);
    for (const i of lostIndexes) damaged.fill(0xee, i * length, (i + 1) * length);
    const rebuilt = recoverBlocks(k, damaged, present, parity, length);
    expect(rebuilt).toEqual([...lostIndexes].sort((a, b) => a - b));
    expect(damaged.equals(original)).toBe(true);
  }

  it('rebuilds random erasure patterns from random parity rows', () => {
    const random = rng(42);
    for (let t = 0; t < 60; t++) {
      const k = 1 + Math.floor(random() * 64);
      const lost = Math.floor(random() * (k + 1));
      trial(k, lost, Math.floor(random() * 3), random);
    }
  });

  it('rebuilds a whole group of 64 from 64 parity blocks', () => trial(64, 64, 0, rng(7)));

  it('rebuilds with the highest parity rows of a small group', () => {
    const k = 3;
    const original = randomBytes(3 * 8);
    const parity = parityOf(k, [maxParityRows(k) - 1, maxParityRows(k) - 2], original, 8);
    const damaged = Buffer.from(original).fill(0, 0, 8).fill(0, 16, 24);
    expect(recoverBlocks(k, damaged, [false, true, false], parity, 8)).toEqual([0, 2]);
    expect(damaged.equals(original)).toBe(true);
  });

  it('throws when fewer parity blocks than missing blocks are given', () => {
    expect(() => recoverBlocks(2, new Uint8Array(8), [false, false], [{ row: 0, data: new Uint8Array(4) }], 4)).toThrow(RangeError);
  });
});
