import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NH_ITERATIONS, NH_KEY_BYTES, NH_MAX_INPUT, NH_OUTPUT_BYTES, NhHash } from './nh.ts';

/** NH straight from its definition (nh.ts), in BigInt: slow, obviously right. */
function referenceNh(key: Buffer, input: Buffer): Buffer {
  const padded = Buffer.alloc((input.length + 31) & ~31);
  input.copy(padded);
  const out = Buffer.alloc(NH_OUTPUT_BYTES);
  const mask32 = 0xffffffffn;
  for (let j = 0; j < NH_ITERATIONS; j++) {
    let sum = 0n;
    for (let chunk = 0; chunk < padded.length; chunk += 32) {
      for (let q = 0; q < 4; q++) {
        const a = (BigInt(padded.readUInt32LE(chunk + 4 * q)) + BigInt(key.readUInt32LE(16 * j + chunk + 4 * q))) & mask32;
        const b = (BigInt(padded.readUInt32LE(chunk + 4 * q + 16)) + BigInt(key.readUInt32LE(16 * j + chunk + 4 * q + 16))) & mask32;
        sum = (sum + a * b) & 0xffffffffffffffffn;
      }
    }
    out.writeBigUInt64LE(sum, 8 * j);
  }
  return out;
}

describe('NhHash', () => {
  const key = randomBytes(NH_KEY_BYTES);
  const simd = new NhHash(key);
  const scalar = new NhHash(key, 'scalar');

  it('runs the SIMD kernel on this machine', () => {
    expect(simd.simd).toBe(true);
    expect(scalar.simd).toBe(false);
  });

  it('matches the definition for both kernels, padded lengths and not', () => {
    for (const length of [0, 1, 31, 32, 33, 64, 100, 1472, 8852, 8853]) {
      const input = randomBytes(length);
      const want = referenceNh(key, input);
      expect(Buffer.from(simd.hash(input)).equals(want), `simd, ${length} bytes`).toBe(true);
      expect(Buffer.from(scalar.hash(input)).equals(want), `scalar, ${length} bytes`).toBe(true);
    }
  });

  it('carries every product past 2^32 and wraps at 2^64 (all-ones words and key)', () => {
    const ones = Buffer.alloc(NH_KEY_BYTES, 0xff);
    const input = Buffer.alloc(4096, 0xff);
    const want = referenceNh(ones, input);
    expect(Buffer.from(new NhHash(ones).hash(input)).equals(want)).toBe(true);
    expect(Buffer.from(new NhHash(ones, 'scalar').hash(input)).equals(want)).toBe(true);
  });

  it('hashes the longest input, and only `length` bytes of a longer buffer', () => {
    const input = randomBytes(NH_MAX_INPUT);
    expect(Buffer.from(simd.hash(input)).equals(referenceNh(key, input))).toBe(true);
    const buffer = randomBytes(500);
    expect(Buffer.from(simd.hash(buffer, 300)).equals(referenceNh(key, buffer.subarray(0, 300)))).toBe(true);
    expect(() => simd.hash(Buffer.alloc(NH_MAX_INPUT + 1))).toThrow(RangeError);
  });

  it('leaves nothing of a longer earlier input in a shorter one\'s padding', () => {
    simd.hash(Buffer.alloc(4000, 0xab));
    const short = randomBytes(37);
    expect(Buffer.from(simd.hash(short)).equals(referenceNh(key, short))).toBe(true);
  });

  it('refuses a key of the wrong size', () => {
    expect(() => new NhHash(randomBytes(32))).toThrow(RangeError);
  });
});
