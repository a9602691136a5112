/**
 * A reader over one Buffer with a moving offset, for the pure codecs
 * (DHCP, TFTP, multicast). Every read is bounds-checked: a short packet
 * throws {@link WireError} instead of returning garbage or reading past the end.
 */
export class WireError extends RangeError {
  readonly code = 'EWIRE';
}

export class ByteReader {
  readonly buffer: Buffer;
  offset: number;
  readonly end: number;

  constructor(buffer: Buffer, offset = 0, end = buffer.length) {
    this.buffer = buffer;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  u8(): number {
    this.need(1, 'u8');
    return this.buffer[this.offset++]!;
  }

  u16(): number {
    this.need(2, 'u16');
    const v = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4, 'u32');
    const v = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** A copy-free view of the next `length` bytes. */
  bytes(length: number): Buffer {
    this.need(length, `${length} bytes`);
    const v = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return v;
  }

  /** Dotted-quad IPv4 address. */
  ipv4(): string {
    const b = this.bytes(4);
    return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  }

  /** Bytes up to (not including) the next NUL, consuming the NUL. */
  cstring(what = 'string'): Buffer {
    const nul = this.buffer.indexOf(0, this.offset);
    if (nul < 0 || nul >= this.end) {
      throw new WireError(`Cannot read ${what}: no NUL terminator before end of packet`);
    }
    const v = this.buffer.subarray(this.offset, nul);
    this.offset = nul + 1;
    return v;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.offset + n > this.end) {
      throw new WireError(`Cannot read ${what} at offset ${this.offset}: packet ends at ${this.end}`);
    }
  }
}
