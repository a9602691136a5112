/**
 * Systematic Reed-Solomon erasure code over GF(2^8) for one FEC group of k
 * data blocks: parity row j is sum_i C[j][i] * D_i with the Cauchy matrix
 * C[j][i] = 1 / (x_j + y_i), x_j = 255 - j, y_i = i. Every square
 * submatrix of a Cauchy matrix is invertible, so ANY k of the k data blocks
 * and the parity rows rebuild the group: receivers that lost different
 * blocks are all repaired by the same parity packets. x and y stay disjoint
 * while k + rows <= 256, so a group of k blocks has 256 - k parity rows.
 * The byte loops run in WebAssembly SIMD (gf256-simd.ts) on blocks held in
 * its memory; the small matrix work stays here.
 */
import { createSimdKernel, type SimdKernel, TABLES_BYTES } from './gf256-simd.ts';
import { inv, mul, mulAddInto } from './gf256.ts';

export const MAX_SYMBOLS = 256;

export function maxParityRows(k: number): number {
  return MAX_SYMBOLS - k;
}

export function coefficient(row: number, column: number): number {
  return inv((255 - row) ^ column);
}

function checkShape(k: number, maxK: number, row: number): void {
  if (!Number.isInteger(k) || k < 1 || k > maxK) throw new RangeError(`Cannot code a group of ${k} blocks: give 1 to ${maxK}`);
  if (!Number.isInteger(row) || row < 0 || row >= maxParityRows(k)) throw new RangeError(`Cannot use parity row ${row} for ${k} blocks: rows are 0 to ${maxParityRows(k) - 1}`);
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
 * Codes groups of up to `groupSize` blocks of `blockSize` bytes. Callers put
 * a group's blocks at {@link block}(i) (zero-padded past a short last
 * block), then ask for parity rows or rebuild missing blocks in place.
 */
export class FecCodec {
  readonly groupSize: number;
  readonly blockSize: number;
  /** Bytes between blocks in the codec's memory: blockSize rounded up to the 16-byte SIMD step. */
  readonly stride: number;
  private readonly kernel: SimdKernel;
  private readonly memory: Uint8Array;
  private readonly coefs = TABLES_BYTES;
  private readonly group = TABLES_BYTES + MAX_SYMBOLS;
  /** Rows for parity output, syndromes and their combinations. */
  private readonly scratch: number;

  constructor(groupSize: number, blockSize: number) {
    if (!Number.isInteger(groupSize) || groupSize < 1 || groupSize > 255) throw new RangeError(`Cannot code groups of ${groupSize} blocks: give 1 to 255`);
    this.groupSize = groupSize;
    this.blockSize = blockSize;
    this.stride = Math.ceil(blockSize / 16) * 16;
    this.scratch = this.group + groupSize * this.stride;
    this.kernel = createSimdKernel(MAX_SYMBOLS + (groupSize + MAX_SYMBOLS) * this.stride);
    this.memory = new Uint8Array(this.kernel.memory.buffer);
  }

  /** Where block i of the group goes (stride bytes: the block, then zeros). */
  block(i: number): Uint8Array {
    return this.memory.subarray(this.group + i * this.stride, this.group + (i + 1) * this.stride);
  }

  /** Zeroes the group's first k blocks (before filling short or missing ones). */
  clear(k: number): void {
    this.memory.fill(0, this.group, this.group + k * this.stride);
  }

  /** Parity row `row` of blocks 0..k-1: a view, valid until the next call. */
  parity(k: number, row: number): Uint8Array {
    checkShape(k, this.groupSize, row);
    for (let i = 0; i < k; i++) this.memory[this.coefs + i] = coefficient(row, i);
    this.memory.fill(0, this.scratch, this.scratch + this.stride);
    this.kernel.combine(this.scratch, this.group, this.stride, k, this.coefs, this.stride);
    return this.memory.subarray(this.scratch, this.scratch + this.blockSize);
  }

  /**
   * Rebuilds the blocks not `present` among 0..k-1 in place. `parity` must
   * hold at least as many rows as blocks are missing (extra rows are
   * ignored). Returns the rebuilt indexes.
   */
  recover(k: number, present: ArrayLike<boolean>, parity: ParitySymbol[]): number[] {
    const missing: number[] = [];
    for (let i = 0; i < k; i++) if (!present[i]) missing.push(i);
    if (missing.length === 0) return missing;
    if (parity.length < missing.length) throw new RangeError(`Cannot rebuild ${missing.length} blocks from ${parity.length} parity blocks`);
    const rows = parity.slice(0, missing.length);
    const { memory, stride } = this;
    // s_j = parity_j - sum over present blocks: what the missing blocks alone contribute.
    rows.forEach((p, j) => {
      checkShape(k, this.groupSize, p.row);
      const at = this.scratch + j * stride;
      memory.fill(0, at, at + stride);
      memory.set(p.data.subarray(0, this.blockSize), at);
      for (let i = 0; i < k; i++) memory[this.coefs + i] = present[i] ? coefficient(p.row, i) : 0;
      this.kernel.combine(at, this.group, stride, k, this.coefs, stride);
    });
    const inverse = invertMatrix(rows.map((p) => Uint8Array.from(missing, (i) => coefficient(p.row, i))));
    missing.forEach((blockIndex, e) => {
      const at = this.group + blockIndex * stride;
      memory.fill(0, at, at + stride);
      memory.set(inverse[e]!, this.coefs);
      this.kernel.combine(at, this.scratch, stride, rows.length, this.coefs, stride);
    });
    return missing;
  }
}
