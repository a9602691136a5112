/**
 * The decoded form of a BOOTP/DHCP message (RFC 2131 2, figure 1) and typed
 * readers for the options trowel acts on. Option values stay raw Buffers in
 * the map (insertion order = wire order on encode); the readers below turn
 * them into numbers and strings and throw {@link WireError} when a value has
 * an impossible length, so the server can log and drop the packet.
 */
import { WireError } from '../wire/index.ts';
import { DhcpOption } from './options.ts';

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The 16-byte chaddr field as on the wire (first `hlen` bytes meaningful). */
  chaddr: Buffer;
  /** Server host name field; empty when the field carried options (overload). */
  sname: string;
  /** Boot file name field; empty when the field carried options (overload). */
  file: string;
  /** Options by code, repeated codes already joined (RFC 3396). */
  options: Map<number, Buffer>;
}

/** Hardware type 1 = Ethernet (RFC 1700 "ARP hardware types"). */
const HTYPE_ETHERNET = 1;

/** The client's MAC (lowercase, colon form), or undefined if chaddr is not an Ethernet address. */
export function clientMac(p: DhcpPacket): string | undefined {
  if (p.htype !== HTYPE_ETHERNET || p.hlen !== 6) return undefined;
  return [...p.chaddr.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function messageType(p: DhcpPacket): number | undefined {
  return u8Option(p, DhcpOption.messageType);
}

export function requestedAddress(p: DhcpPacket): string | undefined {
  return ipv4Option(p, DhcpOption.requestedAddress);
}

export function serverIdentifier(p: DhcpPacket): string | undefined {
  return ipv4Option(p, DhcpOption.serverId);
}

/** Option 55 as a list of codes, in the client's order of preference. */
export function parameterRequestList(p: DhcpPacket): number[] {
  return [...(p.options.get(DhcpOption.parameterRequestList) ?? [])];
}

/** Option 57 (RFC 2132 9.10); undefined if absent. */
export function maxMessageSize(p: DhcpPacket): number | undefined {
  const v = fixed(p, DhcpOption.maxMessageSize, 2);
  return v?.readUInt16BE(0);
}

/** Option 61 as lowercase hex (its type byte included), for lease bookkeeping. */
export function clientId(p: DhcpPacket): string | undefined {
  const v = p.options.get(DhcpOption.clientId);
  return v && v.length > 0 ? v.toString('hex') : undefined;
}

export function hostname(p: DhcpPacket): string | undefined {
  return text(p, DhcpOption.hostname);
}

/** Option 60, e.g. "PXEClient:Arch:00007:UNDI:003016". */
export function vendorClass(p: DhcpPacket): string | undefined {
  return text(p, DhcpOption.vendorClass);
}

/**
 * Option 93 client system architecture (RFC 4578 2.1): a list of 16-bit
 * types; firmware sends one, and the first is the one it runs.
 */
export function clientArch(p: DhcpPacket): number | undefined {
  const v = p.options.get(DhcpOption.clientArch);
  if (!v) return undefined;
  if (v.length === 0 || v.length % 2 !== 0) throw new WireError(`Cannot read option 93: length ${v.length} is not a positive multiple of 2`);
  return v.readUInt16BE(0);
}

/**
 * Option 97 machine identifier (RFC 4578 2.3): type 0 then 16 bytes. Firmware
 * sends the SMBIOS byte order (PXE 2.1 calls it a GUID: the first three
 * fields little-endian; EDK2 and iPXE both do, see test/fixtures/dhcp), so
 * those fields are swapped back to give the UUID that dmidecode, the BMC and
 * QEMU's -uuid show.
 */
export function clientUuid(p: DhcpPacket): string | undefined {
  const v = p.options.get(DhcpOption.clientUuid);
  if (!v) return undefined;
  if (v.length !== 17 || v[0] !== 0) throw new WireError(`Cannot read option 97: expected type 0 and 16 bytes, got ${v.length} bytes`);
  const b = v.subarray(1);
  const hex = (from: number, to: number, reverse = false) => {
    const part = [...b.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10)}-${hex(10, 16)}`;
}

/**
 * Option 77 user classes. RFC 3004 wants length-prefixed entries, but iPXE
 * (and older clients) send one bare string such as "iPXE"; a value that
 * doesn't split exactly into RFC 3004 entries is read as that one string.
 */
export function userClasses(p: DhcpPacket): string[] {
  const v = p.options.get(DhcpOption.userClass);
  if (!v || v.length === 0) return [];
  const entries: string[] = [];
  let i = 0;
  while (i < v.length) {
    const len = v[i]!;
    if (len === 0 || i + 1 + len > v.length) return [v.toString('latin1')];
    entries.push(v.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  return entries;
}

/** Option 175: iPXE's encapsulated feature options (code -> value), or undefined if not sent. */
export function ipxeOptions(p: DhcpPacket): Map<number, Buffer> | undefined {
  const v = p.options.get(DhcpOption.ipxeEncapsulated);
  return v && parseEncapsulated(v, 175);
}

/** Sub-options inside an encapsulating option (43, 175): code, length, value; 0 pad, 255 end. */
export function parseEncapsulated(v: Buffer, outer: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let i = 0;
  while (i < v.length) {
    const code = v[i]!;
    if (code === DhcpOption.pad) { i += 1; continue; }
    if (code === DhcpOption.end) break;
    const len = v[i + 1];
    if (len === undefined || i + 2 + len > v.length) throw new WireError(`Cannot read option ${outer}: sub-option ${code} runs past the end`);
    out.set(code, v.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}

function fixed(p: DhcpPacket, code: number, length: number): Buffer | undefined {
  const v = p.options.get(code);
  if (v && v.length !== length) throw new WireError(`Cannot read option ${code}: length ${v.length}, expected ${length}`);
  return v;
}

function u8Option(p: DhcpPacket, code: number): number | undefined {
  return fixed(p, code, 1)?.[0];
}

function ipv4Option(p: DhcpPacket, code: number): string | undefined {
  const v = fixed(p, code, 4);
  return v && `${v[0]}.${v[1]}.${v[2]}.${v[3]}`;
}

/** Text options: NUL-terminated by some clients (RFC 2132 says don't); the NUL and anything after is dropped. */
function text(p: DhcpPacket, code: number): string | undefined {
  const v = p.options.get(code);
  if (!v) return undefined;
  const nul = v.indexOf(0);
  return v.toString('latin1', 0, nul < 0 ? v.length : nul);
}
