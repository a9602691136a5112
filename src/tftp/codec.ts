/**
 * TFTP packets (RFC 1350) with option extension (RFC 2347): pure functions
 * over Buffers, no sockets. A packet that is short, unterminated or of an
 * unknown kind throws {@link WireError}; the server logs it and drops it.
 */
import { ByteReader, ByteWriter, WireError } from '../wire/index.ts';

export const Opcode = {
  RRQ: 1, // read request
  WRQ: 2, // write request
  DATA: 3,
  ACK: 4,
  ERROR: 5,
  OACK: 6, // option acknowledgement, RFC 2347
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** ERROR packet codes: 0-7 from RFC 1350, 8 from RFC 2347. */
export const ErrorCode = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8, // RFC 2347: "terminate transfer due to option negotiation"
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An option name (lowercased: RFC 2347 names are case-insensitive) and its value as sent. */
export interface TftpOption {
  name: string;
  value: string;
}

export interface RequestPacket {
  opcode: typeof Opcode.RRQ | typeof Opcode.WRQ;
  filename: string;
  /** Lowercased, as RFC 1350 says mode is case-insensitive ("netascii", "octet", "mail"). */
  mode: string;
  options: TftpOption[];
}
export interface DataPacket {
  opcode: typeof Opcode.DATA;
  block: number;
  data: Buffer;
}
export interface AckPacket {
  opcode: typeof Opcode.ACK;
  block: number;
}
export interface ErrorPacket {
  opcode: typeof Opcode.ERROR;
  code: number;
  message: string;
}
export interface OackPacket {
  opcode: typeof Opcode.OACK;
  options: TftpOption[];
}
export type TftpPacket = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

/** Every field is a NUL-terminated string; filenames in UTF-8 (ASCII in practice). */
const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(reader: ByteReader, what: string): string {
  const raw = reader.cstring(what);
  try {
    return utf8.decode(raw);
  } catch {
    throw new WireError(`Cannot read ${what}: not valid UTF-8`);
  }
}

/**
 * Option name/value pairs up to the end of the packet (RFC 2347). Some PXE
 * ROMs pad requests with NULs, so trailing NUL bytes are ignored; a name
 * without a value is an error.
 */
function parseOptions(reader: ByteReader): TftpOption[] {
  const options: TftpOption[] = [];
  while (reader.remaining > 0) {
    if (reader.buffer.subarray(reader.offset, reader.end).every((b) => b === 0)) break;
    const name = text(reader, 'option name').toLowerCase();
    if (name === '') throw new WireError('Cannot read option: empty option name');
    const value = text(reader, `value of option ${name}`);
    options.push({ name, value });
  }
  return options;
}

export function parseRequest(reader: ByteReader, opcode: RequestPacket['opcode']): RequestPacket {
  const filename = text(reader, 'filename');
  const mode = text(reader, 'mode').toLowerCase();
  return { opcode, filename, mode, options: parseOptions(reader) };
}

export function parseData(reader: ByteReader): DataPacket {
  const block = reader.u16();
  return { opcode: Opcode.DATA, block, data: reader.bytes(reader.remaining) };
}

/** Bytes after the block number are ignored: some clients pad their ACKs. */
export function parseAck(reader: ByteReader): AckPacket {
  return { opcode: Opcode.ACK, block: reader.u16() };
}

/** A message without its NUL terminator is accepted: several clients omit it. */
export function parseError(reader: ByteReader): ErrorPacket {
  const code = reader.u16();
  const rest = reader.bytes(reader.remaining);
  const nul = rest.indexOf(0);
  const message = (nul < 0 ? rest : rest.subarray(0, nul)).toString('utf8');
  return { opcode: Opcode.ERROR, code, message };
}

export function parseOack(reader: ByteReader): OackPacket {
  return { opcode: Opcode.OACK, options: parseOptions(reader) };
}

export function parsePacket(packet: Buffer): TftpPacket {
  const reader = new ByteReader(packet);
  const opcode = reader.u16();
  switch (opcode) {
    case Opcode.RRQ:
    case Opcode.WRQ:
      return parseRequest(reader, opcode);
    case Opcode.DATA:
      return parseData(reader);
    case Opcode.ACK:
      return parseAck(reader);
    case Opcode.ERROR:
      return parseError(reader);
    case Opcode.OACK:
      return parseOack(reader);
    default:
      throw new WireError(`Cannot parse TFTP packet: unknown opcode ${opcode}`);
  }
}

function writeOptions(writer: ByteWriter, options: readonly TftpOption[]): ByteWriter {
  for (const { name, value } of options) writer.cstring(name).cstring(value);
  return writer;
}

export function encodeRequest(packet: Omit<RequestPacket, 'options'> & { options?: readonly TftpOption[] }): Buffer {
  const writer = new ByteWriter(64).u16(packet.opcode).cstring(packet.filename).cstring(packet.mode);
  return writeOptions(writer, packet.options ?? []).toBuffer();
}

/** The header is written in front of a copy of `data` in one allocation. */
export function encodeData(block: number, data: Uint8Array): Buffer {
  return encodeDataInto(Buffer.allocUnsafe(4 + data.length), block, data);
}

/**
 * A DATA packet written into `target` (at least 4 + data.length bytes), for
 * a transfer that reuses its packet buffers; returns the packet's bytes
 * (`target` itself when the lengths match).
 */
export function encodeDataInto(target: Buffer, block: number, data: Uint8Array): Buffer {
  target.writeUInt16BE(Opcode.DATA, 0);
  target.writeUInt16BE(block & 0xffff, 2);
  target.set(data, 4);
  return target.length === 4 + data.length ? target : target.subarray(0, 4 + data.length);
}

export function encodeAck(block: number): Buffer {
  return new ByteWriter(4).u16(Opcode.ACK).u16(block).toBuffer();
}

export function encodeError(code: number, message: string): Buffer {
  return new ByteWriter(8 + message.length).u16(Opcode.ERROR).u16(code).cstring(message).toBuffer();
}

export function encodeOack(options: readonly TftpOption[]): Buffer {
  return writeOptions(new ByteWriter(64).u16(Opcode.OACK), options).toBuffer();
}
