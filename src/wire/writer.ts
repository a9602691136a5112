/**
 * A growing buffer with chainable writes; `toBuffer()` returns exactly the
 * bytes written. Codecs build replies with it; tests never use it to build
 * their expected bytes (they use literal hex), so a writer bug can't hide.
 */
export class ByteWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialSize = 576) {
    this.buffer = Buffer.alloc(initialSize);
  }

  get size(): number {
    return this.length;
  }

  u8(v: number): this {
    this.grow(1);
    this.buffer[this.length++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.grow(2);
    this.buffer.writeUInt16BE(v & 0xffff, this.length);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.grow(4);
    this.buffer.writeUInt32BE(v >>> 0, this.length);
    this.length += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buffer.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Writes `b` then zero bytes up to `width` (fixed-width BOOTP fields); truncates longer input. */
  padded(b: Uint8Array, width: number): this {
    const n = Math.min(b.length, width);
    this.bytes(b.subarray(0, n));
    return this.zeros(width - n);
  }

  zeros(n: number): this {
    this.grow(n);
    this.buffer.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }

  ipv4(address: string): this {
    return this.bytes(ipv4ToBytes(address));
  }

  cstring(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8')).u8(0);
  }

  toBuffer(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  private grow(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const next = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + n));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
}

/** Parses a dotted quad; throws TypeError for anything else. */
export function ipv4ToBytes(address: string): Buffer {
  const parts = address.split('.');
  const out = Buffer.alloc(4);
  if (parts.length !== 4) throw new TypeError(`Cannot parse IPv4 address: "${address}"`);
  parts.forEach((p, i) => {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new TypeError(`Cannot parse IPv4 address: "${address}"`);
    out[i] = n;
  });
  return out;
}
