/**
 * Systematic Reed-Solomon erasure code over GF(2^8) for one FEC group of k
 * data blocks: parity row j is sum_i C[j][i] * D_i with the Cauchy matrix
 * C[j][i] = 1 / (x_j + y_i), x_j = 255 - j, y_i = i. Every square
 * submatrix of a Cauchy matrix is invertible, so ANY k of the k data blocks
 * and the parity rows rebuild the group: receivers that lost different
 * blocks are all repaired by the same parity packets. x and y stay disjoint
 * while k + rows <= 256, so a group of k blocks has 256 - k parity rows.
 * Blocks are equal-length byte arrays (a short last block is zero-padded).
 */
import { inv, mul, mulAddInto } from './gf256.ts';

export const MAX_SYMBOLS = 256;

export function maxParityRows(k: number): number {
  return MAX_SYMBOLS - k;
}

export function coefficient(row: number, column: number): number {
  return inv((255 - row) ^ column);
}

function checkShape(k: number, row: number): void {
  if (!Number.isInteger(k) || k < 1 || k > 255) throw new RangeError(`Cannot code a group of ${k} blocks: give 1 to 255`);
  if (!Number.isInteger(row) || row < 0 || row >= maxParityRows(k)) throw new RangeError(`Cannot make parity row ${row} for ${k} blocks: rows are 0 to ${maxParityRows(k) - 1}`);
}

/**
 * Writes parity row `row` of a group into `out`. `group` holds the k data
 * blocks back to back, `blockSize` bytes each (a short last block zero-padded).
 */
export function encodeParity(k: number, row: number, group: Uint8Array, blockSize: number, out: Uint8Array): void {
  checkShape(k, row);
  out.fill(0, 0, blockSize);
  for (let i = 0; i < k; i++) mulAddInto(out, group.subarray(i * blockSize, (i + 1) * blockSize), coefficient(row, i), blockSize);
}

/** Inverts a square matrix over GF(2^8) (Gauss-Jordan); rows are Uint8Arrays. */
export function invertMatrix(m: Uint8Array[]): Uint8Array[] {
  const n = m.length;
  const a = m.map((r) => Uint8Array.from(r));
  const out = m.map((_, i) => {
    const r = new Uint8Array(n);
    r[i] = 1;
    return r;
  });
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && a[pivot]![col] === 0) pivot++;
    if (pivot === n) throw new RangeError('Cannot invert matrix: singular');
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [out[col], out[pivot]] = [out[pivot]!, out[col]!];
    const scale = inv(a[col]![col]!);
    for (let j = 0; j < n; j++) {
      a[col]![j] = mul(a[col]![j]!, scale);
      out[col]![j] = mul(out[col]![j]!, scale);
    }
    for (let r = 0; r < n; r++) {
      const f = a[r]![col]!;
      if (r === col || f === 0) continue;
      mulAddInto(a[r]!, a[col]!, f, n);
      mulAddInto(out[r]!, out[col]!, f, n);
    }
  }
  return out;
}

export interface ParitySymbol {
  row: number;
  data: Uint8Array;
}

/**
 * Rebuilds the missing data blocks of a group in place: `group` holds the k
 * blocks back to back (`blockSize` each), `present[i]` says which are real;
 * the others are overwritten. `parity` must hold at least as many rows as
 * blocks are missing (extra rows are ignored). Returns the rebuilt indexes.
 */
export function recoverBlocks(k: number, group: Uint8Array, present: ArrayLike<boolean>, parity: ParitySymbol[], blockSize: number): number[] {
  const missing: number[] = [];
  for (let i = 0; i < k; i++) if (!present[i]) missing.push(i);
  if (missing.length === 0) return missing;
  if (parity.length < missing.length) throw new RangeError(`Cannot rebuild ${missing.length} blocks from ${parity.length} parity blocks`);
  const rows = parity.slice(0, missing.length);
  for (const p of rows) checkShape(k, p.row);
  const block = (i: number) => group.subarray(i * blockSize, (i + 1) * blockSize);
  // s_p = parity_p - sum over present blocks: what the missing blocks alone contribute.
  const syndromes = rows.map((p) => {
    const s = new Uint8Array(blockSize);
    s.set(p.data.subarray(0, blockSize));
    for (let i = 0; i < k; i++) if (present[i]) mulAddInto(s, block(i), coefficient(p.row, i), blockSize);
    return s;
  });
  const inverse = invertMatrix(rows.map((p) => Uint8Array.from(missing, (i) => coefficient(p.row, i))));
  missing.forEach((blockIndex, e) => {
    const out = block(blockIndex);
    out.fill(0);
    for (let j = 0; j < rows.length; j++) mulAddInto(out, syndromes[j]!, inverse[e]![j]!, blockSize);
  });
  return missing;
}
