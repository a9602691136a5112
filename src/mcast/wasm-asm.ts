/**
 * A tiny WebAssembly assembler: the multicast hot loops (GF(2^8) parity in
 * gf256-simd.ts, the NH packet hash in nh.ts) are written as named opcodes
 * and assembled here at start-up. No toolchain, nothing to download, and
 * the bytes are reviewable next to what they compute.
 *
 * Only what those kernels use is here; opcode numbers are from the
 * WebAssembly core spec (MVP and the fixed-width SIMD proposal).
 */

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export const I32 = 0x7f;
export const I64 = 0x7e;
export const V128 = 0x7b;

const simd = (code: number, ...immediates: number[]) => [0xfd, ...uleb(code), ...immediates];
/** A memory access immediate: alignment hint (log2) and a constant offset. */
const memarg = (align: number, offset: number) => [...uleb(align), ...uleb(offset)];

export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  call: (f: number) => [0x10, ...uleb(f)],
  get: (l: number) => [0x20, ...uleb(l)],
  set: (l: number) => [0x21, ...uleb(l)],
  tee: (l: number) => [0x22, ...uleb(l)],
  i32Const: (v: number) => [0x41, ...sleb(v)],
  i64Const0: [0x42, 0],
  i32Load: (offset: number) => [0x28, ...memarg(2, offset)],
  i32Load8u: [0x2d, 0, 0],
  i64Store: (offset: number) => [0x37, ...memarg(3, offset)],
  i32LeS: [0x4c],
  i32GtS: [0x4a],
  i32LtU: [0x49],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Shl: [0x74],
  i64Add: [0x7c],
  i64Mul: [0x7e],
  i64ExtendI32U: [0xad],
  v128Load: (offset: number) => simd(0x00, ...memarg(0, offset)),
  v128Store: simd(0x0b, 0, 0),
  v128Const0: simd(0x0c, ...new Array<number>(16).fill(0)),
  swizzle: simd(0x0e),
  splat8: simd(0x0f),
  i64x2ExtractLane: (lane: number) => simd(0x1d, lane),
  and: simd(0x4e),
  xor: simd(0x51),
  shrU8: simd(0x6d),
  i32x4Add: simd(0xae),
  i64x2Add: simd(0xce),
  i64x2ExtmulLowI32x4U: simd(0xde),
  i64x2ExtmulHighI32x4U: simd(0xdf),
};

/** A function body: its locals (runs of one type) and its code, with the closing `end`. */
export function body(locals: [count: number, type: number][], code: number[][]): number[] {
  const bytes = [...vector(locals.map(([n, t]) => [...uleb(n), t])), ...code.flat(), ...op.end];
  return [...uleb(bytes.length), ...bytes];
}

export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  body: number[];
}

/**
 * A module of `functions` (indexed in order, so `op.call(i)` reaches the
 * i-th) exporting each by name, plus its memory as "memory" with
 * `memoryPages` pages of 64 KiB to start with.
 */
export function assemble(functions: WasmFunction[], memoryPages: number): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'ascii')];
  const types = functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(5, vector([[0x00, ...uleb(memoryPages)]])),
    ...section(7, vector([[...name('memory'), 0x02, 0], ...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])])),
    ...section(10, [...uleb(functions.length), ...functions.flatMap((f) => f.body)]),
  ]);
}

/** Compiles `bytes`, or null where the engine refuses them (no SIMD on this CPU, say). */
export function compileOrNull(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module | null {
  try {
    return new WebAssembly.Module(bytes);
  } catch {
    return null;
  }
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}
