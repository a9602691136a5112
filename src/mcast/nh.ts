/**
 * NH, the universal hash at the heart of UMAC (RFC 4418 section 5.2.2,
 * Black et al., "UMAC: Fast and Secure Message Authentication", 1999), in
 * WebAssembly. The packet MAC (mac.ts) hashes every packet with NH and
 * signs only NH's 32-byte output with HMAC-SHA256, because hashing a 9 KB
 * block with SHA-256 was most of a receiver's CPU (~12 µs of every ~30 µs
 * per datagram); NH takes ~1 µs with SIMD.
 *
 * Over the input as 32-bit little-endian words m, zero-padded to a multiple
 * of 8 words, and a key k of as many words:
 *
 *   NH_k(m) = sum over chunks i of sum over j < 4 of
 *             ((m[8i+j] + k[8i+j]) mod 2^32) * ((m[8i+j+4] + k[8i+j+4]) mod 2^32)   mod 2^64
 *
 * For two different inputs of the same padded length and a random key the
 * outputs collide with probability at most 2^-32. Four such hashes with the
 * key shifted by 4 words each time (the "Toeplitz" construction UMAC-128
 * uses) collide with probability at most 2^-128: that 32-byte tuple is the
 * output. Zero padding makes m and m||0 collide on purpose: the caller
 * puts the true length next to the output (mac.ts does).
 *
 * Two kernels, the same result: one with 128-bit SIMD (two 32x32->64
 * products per instruction) and a scalar one for CPUs without SIMD in
 * WebAssembly (QEMU's default CPU model lacks SSE4.1, which V8 needs).
 */
import { assemble, body, compileOrNull, I32, I64, op, V128 } from './wasm-asm.ts';

/** Longest input: any UDP payload, padded. */
export const NH_MAX_INPUT = 65536;
/** Four iterations over the longest input, each shifted by 16 bytes. */
export const NH_ITERATIONS = 4;
export const NH_KEY_BYTES = NH_MAX_INPUT + 16 * (NH_ITERATIONS - 1);
export const NH_OUTPUT_BYTES = 8 * NH_ITERATIONS;

// Memory layout of both kernels: the key, then the input, then the output.
const KEY_AT = 0;
const INPUT_AT = 65600; // past the key, a multiple of 32
const OUTPUT_AT = INPUT_AT + NH_MAX_INPUT;
const PAGES = Math.ceil((OUTPUT_AT + NH_OUTPUT_BYTES) / 65536);

/** nh(len): the SIMD kernel. Locals: 0 len, 1 p, 2 mlo, 3 mhi, 4 a, 5 b, 6-9 the accumulators (i64x2). */
function simdKernel(): number[] {
  const [LEN, P, MLO, MHI, A, B, ACC] = [0, 1, 2, 3, 4, 5, 6];
  const iteration = (j: number) => [
    op.get(ACC + j),
    op.get(MLO), op.get(P), op.v128Load(KEY_AT + 16 * j), op.i32x4Add, op.tee(A),
    op.get(MHI), op.get(P), op.v128Load(KEY_AT + 16 * j + 16), op.i32x4Add, op.tee(B),
    op.i64x2ExtmulLowI32x4U, op.i64x2Add,
    op.get(A), op.get(B), op.i64x2ExtmulHighI32x4U, op.i64x2Add,
    op.set(ACC + j),
  ].flat();
  const store = (j: number) => [
    op.i32Const(0),
    op.get(ACC + j), op.i64x2ExtractLane(0), op.get(ACC + j), op.i64x2ExtractLane(1), op.i64Add,
    op.i64Store(OUTPUT_AT + 8 * j),
  ].flat();
  return body([[1, I32], [4 + NH_ITERATIONS, V128]], [
    ...Array.from({ length: NH_ITERATIONS }, (_, j) => [op.v128Const0, op.set(ACC + j)].flat()),
    op.block,
    op.get(LEN), op.i32Const(0), op.i32LeS, op.brIf(0),
    op.loop,
    op.get(P), op.v128Load(INPUT_AT), op.set(MLO),
    op.get(P), op.v128Load(INPUT_AT + 16), op.set(MHI),
    ...Array.from({ length: NH_ITERATIONS }, (_, j) => iteration(j)),
    op.get(P), op.i32Const(32), op.i32Add, op.tee(P), op.get(LEN), op.i32LtU, op.brIf(0),
    op.end,
    op.end,
    ...Array.from({ length: NH_ITERATIONS }, (_, j) => store(j)),
  ]);
}

/** nh(len): the scalar kernel. Locals: 0 len, 1 p, 2-9 the chunk's 8 words, 10-13 the accumulators (i64). */
function scalarKernel(): number[] {
  const [LEN, P, M, ACC] = [0, 1, 2, 10];
  const product = (j: number, q: number) => [
    op.get(ACC + j),
    op.get(M + q), op.get(P), op.i32Load(KEY_AT + 16 * j + 4 * q), op.i32Add, op.i64ExtendI32U,
    op.get(M + q + 4), op.get(P), op.i32Load(KEY_AT + 16 * j + 4 * q + 16), op.i32Add, op.i64ExtendI32U,
    op.i64Mul, op.i64Add,
    op.set(ACC + j),
  ].flat();
  return body([[9, I32], [NH_ITERATIONS, I64]], [
    op.block,
    op.get(LEN), op.i32Const(0), op.i32LeS, op.brIf(0),
    op.loop,
    ...Array.from({ length: 8 }, (_, w) => [op.get(P), op.i32Load(INPUT_AT + 4 * w), op.set(M + w)].flat()),
    ...Array.from({ length: NH_ITERATIONS }, (_, j) => Array.from({ length: 4 }, (_, q) => product(j, q)).flat()),
    op.get(P), op.i32Const(32), op.i32Add, op.tee(P), op.get(LEN), op.i32LtU, op.brIf(0),
    op.end,
    op.end,
    ...Array.from({ length: NH_ITERATIONS }, (_, j) => [op.i32Const(0), op.get(ACC + j), op.i64Store(OUTPUT_AT + 8 * j)].flat()),
  ]);
}

let simdModule: WebAssembly.Module | null | undefined;
let scalarModule: WebAssembly.Module | undefined;

function moduleFor(kind: 'simd' | 'scalar'): WebAssembly.Module | null {
  if (kind === 'simd') {
    if (simdModule === undefined) simdModule = compileOrNull(assemble([{ name: 'nh', params: [I32], results: [], body: simdKernel() }], PAGES));
    return simdModule;
  }
  scalarModule ??= new WebAssembly.Module(assemble([{ name: 'nh', params: [I32], results: [], body: scalarKernel() }], PAGES));
  return scalarModule;
}

/** NH under one key: an instance of its own, the key copied in once. */
export class NhHash {
  /** Whether the SIMD kernel runs (false: this engine or CPU has no WebAssembly SIMD). */
  readonly simd: boolean;
  private readonly memory: Uint8Array;
  private readonly nh: (length: number) => void;
  private readonly output: Uint8Array;

  /** `kind` forces a kernel (tests compare them); by default SIMD where it compiles. */
  constructor(key: Uint8Array, kind?: 'simd' | 'scalar') {
    if (key.length !== NH_KEY_BYTES) throw new RangeError(`Cannot use a ${key.length}-byte NH key: it must be ${NH_KEY_BYTES} bytes`);
    const module = kind === 'scalar' ? null : moduleFor('simd');
    if (!module && kind === 'simd') throw new Error('Cannot use the SIMD NH kernel: this engine has no WebAssembly SIMD');
    this.simd = module !== null;
    const instance = new WebAssembly.Instance(module ?? moduleFor('scalar')!);
    const exports = instance.exports as unknown as { memory: WebAssembly.Memory; nh(length: number): void };
    // The memory never grows, so this view stays valid.
    this.memory = new Uint8Array(exports.memory.buffer);
    this.memory.set(key, KEY_AT);
    this.nh = exports.nh;
    this.output = this.memory.subarray(OUTPUT_AT, OUTPUT_AT + NH_OUTPUT_BYTES);
  }

  /** NH of input[0, length): 32 bytes, four little-endian u64 (a view, valid until the next call). */
  hash(input: Uint8Array, length = input.length): Uint8Array {
    if (length > NH_MAX_INPUT || length > input.length) throw new RangeError(`Cannot hash ${length} bytes with NH (at most ${NH_MAX_INPUT})`);
    const padded = (length + 31) & ~31;
    this.memory.set(length === input.length ? input : input.subarray(0, length), INPUT_AT);
    this.memory.fill(0, INPUT_AT + length, INPUT_AT + padded);
    this.nh(padded);
    return this.output;
  }
}
