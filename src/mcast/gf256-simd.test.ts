import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createScalarKernel, createSimdKernel, TABLES_BYTES, type SimdKernel } from './gf256-simd.ts';
import { MUL } from './gf256.ts';

const LENGTH = 1024;
const COUNT = 5;

/** dst ^= sum of coefs[i] * block i, byte by byte from the product table: the reference both kernels must match. */
function reference(dst: Uint8Array, blocks: Uint8Array[], coefs: Uint8Array): Uint8Array {
  const out = Uint8Array.from(dst);
  blocks.forEach((block, i) => block.forEach((x, j) => (out[j]! ^= MUL[(coefs[i]! << 8) | x]!)));
  return out;
}

function run(kernel: SimdKernel, dst: Uint8Array, blocks: Uint8Array[], coefs: Uint8Array): Uint8Array {
  const m = new Uint8Array(kernel.memory.buffer);
  const at = TABLES_BYTES;
  const src = at + LENGTH;
  const coefAt = src + COUNT * LENGTH;
  m.set(dst, at);
  blocks.forEach((b, i) => m.set(b, src + i * LENGTH));
  m.set(coefs, coefAt);
  kernel.combine(at, src, LENGTH, COUNT, coefAt, LENGTH);
  return m.slice(at, at + LENGTH);
}

describe('createSimdKernel / createScalarKernel', () => {
  it('combine gives the product-table answer in both kernels, zero coefficients included', () => {
    const blocks = Array.from({ length: COUNT }, () => new Uint8Array(randomBytes(LENGTH)));
    const dst = new Uint8Array(randomBytes(LENGTH));
    const coefs = Uint8Array.from([0, 1, 2, 0x8e, 0xff]);
    const want = reference(dst, blocks, coefs);
    const bytes = LENGTH * (COUNT + 2) + COUNT;
    expect(run(createSimdKernel(bytes), dst, blocks, coefs)).toEqual(want);
    expect(run(createScalarKernel(bytes), dst, blocks, coefs)).toEqual(want);
  });
});
