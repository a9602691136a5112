/**
 * Arithmetic in GF(2^8) with the primitive polynomial x^8+x^4+x^3+x^2+1
 * (0x11d), the field most Reed-Solomon erasure codes use. Addition is XOR;
 * multiplication goes through one 64 KiB product table so the FEC inner
 * loops do a single lookup per byte.
 */
const POLY = 0x11d;

export const EXP = new Uint8Array(512);
export const LOG = new Uint8Array(256);
/** MUL[a << 8 | b] = a * b. */
export const MUL = new Uint8Array(256 * 256);

{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= POLY;
  }
  // A doubled exp table lets mul skip the "mod 255" on log sums.
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
  for (let a = 1; a < 256; a++) {
    for (let b = 1; b < 256; b++) MUL[(a << 8) | b] = EXP[LOG[a]! + LOG[b]!]!;
  }
}

export function mul(a: number, b: number): number {
  return MUL[(a << 8) | b]!;
}

export function inv(a: number): number {
  if (a === 0) throw new RangeError('Cannot invert 0 in GF(2^8)');
  return EXP[255 - LOG[a]!]!;
}

/** out[i] ^= c * src[i] for i < length: the one loop encoding and decoding spend their time in. */
export function mulAddInto(out: Uint8Array, src: Uint8Array, c: number, length: number): void {
  if (c === 0) return;
  if (c === 1) {
    for (let i = 0; i < length; i++) out[i] = out[i]! ^ src[i]!;
    return;
  }
  const row = MUL.subarray(c << 8, (c << 8) + 256);
  for (let i = 0; i < length; i++) out[i] = out[i]! ^ row[src[i]!]!;
}
