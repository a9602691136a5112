/**
 * BOOTP/DHCP wire format (RFC 2131 2, RFC 951) as pure functions over
 * Buffers. Parsing joins repeated option codes (RFC 3396) and reads options
 * from the file and sname fields when option 52 says they are overloaded
 * (RFC 2132 9.3); encoding splits long values into 255-byte pieces and pads
 * to the 300-byte BOOTP minimum that older relays and ROMs expect (RFC 1542 2.1).
 */
import { ByteReader, ByteWriter, WireError } from '../wire/index.ts';
import { DhcpOption, MAGIC_COOKIE } from './options.ts';
import type { DhcpPacket } from './packet.ts';

/** Fixed header (236 bytes) plus the magic cookie. */
export const HEADER_SIZE = 240;
/** Smallest BOOTP message on the wire (RFC 951 "vend" 64 bytes; RFC 1542 2.1). */
export const MIN_PACKET_SIZE = 300;
const SNAME_SIZE = 64;
const FILE_SIZE = 128;
/** Option 52 values (RFC 2132 9.3). */
const OVERLOAD_FILE = 1;
const OVERLOAD_SNAME = 2;

export function parseDhcpPacket(buf: Buffer): DhcpPacket {
  if (buf.length < HEADER_SIZE) throw new WireError(`Cannot parse DHCP packet: ${buf.length} bytes is shorter than the ${HEADER_SIZE}-byte header`);
  const r = new ByteReader(buf);
  const op = r.u8();
  const htype = r.u8();
  const hlen = r.u8();
  if (hlen > 16) throw new WireError(`Cannot parse DHCP packet: hlen ${hlen} exceeds the 16-byte chaddr field`);
  const hops = r.u8();
  const xid = r.u32();
  const secs = r.u16();
  const flags = r.u16();
  const ciaddr = r.ipv4();
  const yiaddr = r.ipv4();
  const siaddr = r.ipv4();
  const giaddr = r.ipv4();
  const chaddr = Buffer.from(r.bytes(16));
  const snameField = r.bytes(SNAME_SIZE);
  const fileField = r.bytes(FILE_SIZE);
  const cookie = r.u32();
  if (cookie !== MAGIC_COOKIE) throw new WireError(`Cannot parse DHCP packet: magic cookie is 0x${cookie.toString(16).padStart(8, '0')}, not 0x63825363`);

  // RFC 3396 5: a client joins an option's pieces in the order options, file, sname.
  const pieces = new Map<number, Buffer[]>();
  readOptions(new ByteReader(buf, HEADER_SIZE), pieces, 'options');
  const overload = pieces.get(DhcpOption.overload);
  let overloadValue = 0;
  if (overload) {
    const v = Buffer.concat(overload);
    if (v.length !== 1 || v[0]! < 1 || v[0]! > 3) throw new WireError(`Cannot parse DHCP packet: option 52 must be one byte 1-3, got ${v.toString('hex') || 'nothing'}`);
    overloadValue = v[0]!;
  }
  if (overloadValue & OVERLOAD_FILE) readOptions(new ByteReader(fileField), pieces, 'file');
  if (overloadValue & OVERLOAD_SNAME) readOptions(new ByteReader(snameField), pieces, 'sname');

  const options = new Map<number, Buffer>();
  for (const [code, parts] of pieces) options.set(code, parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts));
  return {
    op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr,
    sname: overloadValue & OVERLOAD_SNAME ? '' : fieldText(snameField),
    file: overloadValue & OVERLOAD_FILE ? '' : fieldText(fileField),
    options,
  };
}

/**
 * Options until the end option (255) or the end of the area. A missing end
 * option is tolerated (several ROMs omit it); a length running past the end is not.
 */
function readOptions(r: ByteReader, into: Map<number, Buffer[]>, area: string): void {
  while (r.remaining > 0) {
    const code = r.u8();
    if (code === DhcpOption.pad) continue;
    if (code === DhcpOption.end) return;
    if (r.remaining < 1) throw new WireError(`Cannot parse DHCP ${area}: option ${code} has no length byte`);
    const len = r.u8();
    if (len > r.remaining) throw new WireError(`Cannot parse DHCP ${area}: option ${code} length ${len} runs past the end (${r.remaining} bytes left)`);
    const value = r.bytes(len);
    const list = into.get(code);
    if (list) list.push(value);
    else into.set(code, [value]);
  }
}

function fieldText(field: Buffer): string {
  const nul = field.indexOf(0);
  return field.toString('latin1', 0, nul < 0 ? field.length : nul);
}

export function encodeDhcpPacket(p: DhcpPacket): Buffer {
  if (p.chaddr.length > 16) throw new RangeError(`Cannot encode DHCP packet: chaddr is ${p.chaddr.length} bytes, the field holds 16`);
  const w = new ByteWriter(MIN_PACKET_SIZE);
  w.u8(p.op).u8(p.htype).u8(p.hlen).u8(p.hops).u32(p.xid).u16(p.secs).u16(p.flags);
  w.ipv4(p.ciaddr).ipv4(p.yiaddr).ipv4(p.siaddr).ipv4(p.giaddr);
  w.padded(p.chaddr, 16);
  w.padded(fieldBytes(p.sname, SNAME_SIZE, 'sname'), SNAME_SIZE);
  w.padded(fieldBytes(p.file, FILE_SIZE, 'file'), FILE_SIZE);
  w.u32(MAGIC_COOKIE);
  for (const [code, value] of p.options) {
    if (!Number.isInteger(code) || code <= DhcpOption.pad || code >= DhcpOption.end) {
      throw new RangeError(`Cannot encode DHCP option ${code}: codes 1-254 carry values`);
    }
    // RFC 3396 6: a value over 255 bytes goes out as consecutive pieces with the same code.
    // An empty value is still one option with length 0.
    let offset = 0;
    do {
      const piece = value.subarray(offset, offset + 255);
      w.u8(code).u8(piece.length).bytes(piece);
      offset += 255;
    } while (offset < value.length);
  }
  w.u8(DhcpOption.end);
  if (w.size < MIN_PACKET_SIZE) w.zeros(MIN_PACKET_SIZE - w.size);
  return w.toBuffer();
}

function fieldBytes(text: string, width: number, name: string): Buffer {
  const b = Buffer.from(text, 'latin1');
  // A name filling the whole field leaves no NUL, which RFC 2131 2 requires.
  if (b.length >= width) throw new RangeError(`Cannot encode DHCP ${name}: "${text}" needs ${b.length} bytes, the field holds ${width - 1} and a NUL`);
  return b;
}
