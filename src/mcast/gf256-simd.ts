/**
 * The FEC inner loop in WebAssembly SIMD: dst ^= c * src over GF(2^8), 16
 * bytes per step with two table lookups (i8x16.swizzle). Multiplication by
 * c is linear over GF(2), so c * x = c * (x & 15) ^ c * (x & 0xf0): two
 * 16-entry tables per coefficient replace the 256-entry one, and each fits
 * a SIMD register. About 20x the plain JavaScript loop, which matters: a
 * sender repairing 5% loss computes tens of parity blocks per millisecond
 * of line rate.
 *
 * The module is assembled at start-up from named opcodes (wasm-asm.ts).
 * Memory layout: [0, 8192) the nibble tables of all 256 coefficients
 * (lo[16] then hi[16] each); callers own the rest.
 */
import { MUL } from './gf256.ts';
import { assemble, body, compileOrNull, I32, op, V128 } from './wasm-asm.ts';

export const TABLES_BYTES = 256 * 32;

/**
 * mul_add(dst, src, len, table): dst[i] ^= c * src[i] for len bytes (a
 * multiple of 16), c's nibble tables at `table`.
 */
const mulAdd = body([[4, V128]], [
  // locals: 4 tlo, 5 thi, 6 mask, 7 v
  op.get(3), op.v128Load(0), op.set(4),
  op.get(3), op.v128Load(16), op.set(5),
  op.i32Const(15), op.splat8, op.set(6),
  op.block,
  op.get(2), op.i32Const(0), op.i32LeS, op.brIf(0),
  op.loop,
  op.get(0), // store address
  op.get(0), op.v128Load(0),
  op.get(5), op.get(1), op.v128Load(0), op.tee(7), op.i32Const(4), op.shrU8, op.swizzle,
  op.get(4), op.get(7), op.get(6), op.and, op.swizzle,
  op.xor, op.xor, op.v128Store,
  op.get(0), op.i32Const(16), op.i32Add, op.set(0),
  op.get(1), op.i32Const(16), op.i32Add, op.set(1),
  op.get(2), op.i32Const(16), op.i32Sub, op.tee(2), op.i32Const(0), op.i32GtS, op.brIf(0),
  op.end,
  op.end,
]);

/**
 * combine(dst, src, stride, count, coefs, len): dst ^= sum over i < count of
 * coefs[i] * block i, block i at src + i * stride. Parity rows, syndromes
 * and rebuilt blocks are all this one call.
 */
const combine = body([], [
  op.block,
  op.get(3), op.i32Const(0), op.i32LeS, op.brIf(0),
  op.loop,
  op.get(0), op.get(1), op.get(5), op.get(4), op.i32Load8u, op.i32Const(5), op.i32Shl, op.call(0),
  op.get(1), op.get(2), op.i32Add, op.set(1),
  op.get(4), op.i32Const(1), op.i32Add, op.set(4),
  op.get(3), op.i32Const(1), op.i32Sub, op.tee(3), op.i32Const(0), op.i32GtS, op.brIf(0),
  op.end,
  op.end,
]);

function moduleBytes(): Uint8Array<ArrayBuffer> {
  return assemble([
    { name: 'mul_add', params: [I32, I32, I32, I32], results: [], body: mulAdd },
    { name: 'combine', params: [I32, I32, I32, I32, I32, I32], results: [], body: combine },
  ], 1);
}

/** The compiled SIMD module; null once compiling it failed (no SIMD here). */
let compiled: WebAssembly.Module | null | undefined;

export interface SimdKernel {
  memory: WebAssembly.Memory;
  mulAdd(dst: number, src: number, length: number, coefficient: number): void;
  combine(dst: number, src: number, stride: number, count: number, coefs: number, length: number): void;
}

/** A fresh instance with at least `bytes` of memory, nibble tables in place. */
/**
 * The SIMD kernel, or the scalar one where this CPU or engine has no
 * WebAssembly SIMD (V8 needs SSE4.1 on x86-64: QEMU's default `qemu64`
 * CPU model lacks it, so do some old machines).
 */
export function createSimdKernel(bytes: number): SimdKernel {
  if (compiled === undefined) compiled = compileOrNull(moduleBytes());
  if (compiled === null) return createScalarKernel(bytes);
  const instance = new WebAssembly.Instance(compiled);
  const exports = instance.exports as unknown as {
    memory: WebAssembly.Memory;
    mul_add(dst: number, src: number, len: number, table: number): void;
    combine(dst: number, src: number, stride: number, count: number, coefs: number, len: number): void;
  };
  const pages = Math.ceil((TABLES_BYTES + bytes) / 65536);
  if (pages > 1) exports.memory.grow(pages - 1);
  const tables = new Uint8Array(exports.memory.buffer, 0, TABLES_BYTES);
  for (let c = 0; c < 256; c++) {
    for (let n = 0; n < 16; n++) {
      tables[c * 32 + n] = MUL[(c << 8) | n]!;
      tables[c * 32 + 16 + n] = MUL[(c << 8) | (n << 4)]!;
    }
  }
  return {
    memory: exports.memory,
    mulAdd: (dst, src, length, coefficient) => exports.mul_add(dst, src, length, coefficient * 32),
    combine: (dst, src, stride, count, coefs, length) => exports.combine(dst, src, stride, count, coefs, length),
  };
}

/**
 * The same two operations in plain JavaScript over the same memory layout
 * (one 256-entry row of the product table per coefficient): ~20x slower,
 * still correct.
 */
export function createScalarKernel(bytes: number): SimdKernel {
  const memory = new WebAssembly.Memory({ initial: Math.ceil((TABLES_BYTES + bytes) / 65536) });
  const mulAdd = (dst: number, src: number, length: number, coefficient: number) => {
    if (coefficient === 0) return;
    const m = new Uint8Array(memory.buffer);
    const row = coefficient << 8;
    for (let i = 0; i < length; i++) m[dst + i]! ^= MUL[row | m[src + i]!]!;
  };
  return {
    memory,
    mulAdd,
    combine: (dst, src, stride, count, coefs, length) => {
      const m = new Uint8Array(memory.buffer);
      for (let i = 0; i < count; i++) mulAdd(dst, src + i * stride, length, m[coefs + i]!);
    },
  };
}
