/**
 * Multicast session packets (docs/multicast.md, "Wire format"): pure
 * functions over Buffers, no sockets. Every packet is
 *
 *   magic u16 "TW" | version u8 | type u8 | session u32 | body | MAC 16 bytes
 *
 * with the MAC over everything before it: a truncated HMAC-SHA256 of the
 * length and the NH hash of those bytes (mac.ts).
 * `decodePacket` throws {@link WireError} for anything short, foreign, forged
 * or of an unknown kind; callers count it and drop it, never fail on it.
 * Integers are big-endian; 64-bit sizes travel as two u32 halves.
 */
import { ByteReader, WireError } from '../wire/index.ts';
import { MAC_LENGTH, type PacketAuth } from './mac.ts';

export const MAGIC = 0x5457; // "TW"
/**
 * 2: STATUS needs carry masks of the missing blocks, END is numbered. 3: the MAC is HMAC over NH of the packet (mac.ts).
 * 4: JOIN, STATUS and DONE carry the receiver's report counter, so the sender can refuse a replayed one.
 */
export const VERSION = 4;

export const PacketType = {
  ANNOUNCE: 1, // sender -> group: session parameters, periodically
  JOIN: 2, // receiver -> sender control port
  STATUS: 3, // receiver -> sender: per-group needs (NAK), progress, loss
  DATA: 4, // sender -> group: one block
  PARITY: 5, // sender -> group: one Reed-Solomon parity block of a group
  DROP: 6, // sender -> receiver: stop, fetch the rest another way
  END: 7, // sender -> group: all data sent (repeated), or session over (final)
  DONE: 8, // receiver -> sender: complete; sender -> receiver: acknowledged
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export const Phase = { WAITING: 0, SENDING: 1, ENDING: 2 } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export const DropReason = { SILENT: 1, BEHIND: 2, SENDER_STOPPED: 3 } as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export const HEADER_LENGTH = 8;
/** Bytes before a DATA payload: header + seq + block. */
export const DATA_HEADER_LENGTH = HEADER_LENGTH + 8;
/** Bytes before a PARITY payload: header + seq + group + index. */
export const PARITY_HEADER_LENGTH = HEADER_LENGTH + 10;
/** The most a block packet adds to its payload: the PARITY header and the MAC. */
export const BLOCK_PACKET_OVERHEAD = PARITY_HEADER_LENGTH + MAC_LENGTH;
/** Bytes of one STATUS need: group, missing count, two 32-bit masks. */
const NEED_LENGTH = 13;
/** STATUS entries fit a 1500-byte MTU whatever the block size: (1500 - 28 - 62) / 13. */
export const MAX_STATUS_ENTRIES = 108;

export interface AnnouncePacket {
  type: typeof PacketType.ANNOUNCE;
  session: number;
  phase: Phase;
  blockSize: number;
  totalBytes: number;
  blockCount: number;
  groupSize: number;
  proactiveParity: number;
  /** The paced rate in kbit/s (u32 holds up to 4 Tbit/s). */
  rateKbps: number;
  /** The sender's unicast port for JOIN / STATUS / DONE, on the announce's source address. */
  controlPort: number;
  /** Blocks that exist so far (tee mode); blockCount otherwise. */
  availableBlocks: number;
  /** The first block not yet sent once: where a late joiner's multicast data starts. */
  nextBlock: number;
  /** The sequence number of the last block packet sent before this announce. */
  seq: number;
  /** How often each receiver should send STATUS (the sender spreads its load as receivers grow). */
  statusIntervalMs: number;
  /** A receiver also sends STATUS after every this many block packets: the acks that clock the window. */
  ackEvery: number;
}

/**
 * What a receiver sends the sender (JOIN, STATUS, DONE) is numbered by
 * `report`: 1, 2, 3... per receiver, one per packet sent. The MAC proves a
 * packet came from a key holder, not that it is new: the sender takes a
 * report only when its number is above the last it took from that receiver,
 * so a captured one replayed (from anywhere) changes nothing.
 */
interface ReceiverReportFields {
  receiver: number;
  report: number;
}

export interface JoinPacket extends ReceiverReportFields {
  type: typeof PacketType.JOIN;
  session: number;
}

/**
 * A group this receiver can't complete yet, and how many more symbols it
 * needs. With groups of up to 64 blocks, also which data blocks it lacks
 * (bit i of the 64-bit mask: block i of the group; low word first), so a
 * repair meant for it alone can be the block itself rather than parity
 * the sender must compute; 0 and 0 when unknown.
 */
export interface GroupNeed {
  group: number;
  missing: number;
  maskLow: number;
  maskHigh: number;
}

export interface StatusPacket extends ReceiverReportFields {
  type: typeof PacketType.STATUS;
  session: number;
  /** Highest block-packet sequence number received (its needs are current up to it). */
  seq: number;
  /** Blocks complete from the start (the contiguous watermark, in blocks). */
  contiguous: number;
  /** Blocks complete in total (fetched prefix included). */
  complete: number;
  /** Receive rate in KiB/s over the last interval. */
  rateKiBps: number;
  /** Block packets received so far, repeats included: with `seq`, the sender's measure of this receiver's loss. */
  received: number;
  /** First block this receiver expects from multicast (after a prefix it fetches itself). */
  firstBlock: number;
  /** The receive buffer its socket got (SO_RCVBUF): the sender keeps less than this in flight. */
  receiveBuffer: number;
  needs: GroupNeed[];
}

export interface DataPacket {
  type: typeof PacketType.DATA;
  session: number;
  seq: number;
  block: number;
  /** A view into the packet: copy it before the packet buffer is reused. */
  payload: Buffer;
}

export interface ParityPacket {
  type: typeof PacketType.PARITY;
  session: number;
  seq: number;
  group: number;
  /** Parity row of the group's code (0-based). */
  index: number;
  payload: Buffer;
}

export interface DropPacket {
  type: typeof PacketType.DROP;
  session: number;
  receiver: number;
  reason: DropReason;
}

export interface EndPacket {
  type: typeof PacketType.END;
  session: number;
  seq: number;
  blockCount: number;
  /** Session over: receivers not done must fall back now. */
  final: boolean;
}

export interface DonePacket extends ReceiverReportFields {
  type: typeof PacketType.DONE;
  session: number;
  /** Sent by the sender: the receiver's DONE arrived (its `report` is the one acknowledged). */
  ack: boolean;
}

export type McastPacket =
  | AnnouncePacket
  | JoinPacket
  | StatusPacket
  | DataPacket
  | ParityPacket
  | DropPacket
  | EndPacket
  | DonePacket;

/** Reads a u64 sent as two u32 halves; beyond 2^53 is refused rather than rounded. */
function u64(reader: ByteReader): number {
  const high = reader.u32();
  const low = reader.u32();
  if (high >= 0x200000) throw new WireError('Cannot read size: larger than 2^53');
  return high * 0x1_0000_0000 + low;
}

/** Type, session and MAC: what every packet must pass before its body is read. */
export function checkPacket(packet: Buffer, auth: PacketAuth): { type: number; session: number } {
  const type = peekType(packet);
  if (type === 0) throw new WireError(`Cannot parse packet: ${packet.length} bytes, not a trowel multicast packet of version ${VERSION}`);
  if (!auth.verify(packet)) throw new WireError('Cannot accept packet: its MAC does not match the session key');
  return { type, session: packet.readUInt32BE(4) };
}

/**
 * The type of a packet with a plausible header (length, magic, version),
 * else 0; the MAC is not checked. The receive path uses it with {@link
 * isDataPacket} and the data* readers to take DATA without building objects,
 * where CPU per packet is what limits a receiver.
 */
export function peekType(packet: Buffer): number {
  if (packet.length < HEADER_LENGTH + MAC_LENGTH || packet.readUInt16BE(0) !== MAGIC || packet[2] !== VERSION) return 0;
  return packet[3]!;
}

/**
 * The protocol version of a trowel packet this release cannot read (right
 * magic, another version), else undefined: a sender and receiver of
 * different releases are told apart from plain noise on the group.
 */
export function foreignVersion(packet: Buffer): number | undefined {
  if (packet.length < HEADER_LENGTH || packet.readUInt16BE(0) !== MAGIC || packet[2] === VERSION) return undefined;
  return packet[2];
}

/** Session id of a packet {@link peekType} accepted. */
export function peekSession(packet: Buffer): number {
  return packet.readUInt32BE(4);
}

/** A DATA packet long enough for its header, MAC and payload (check the MAC apart). */
export function isDataPacket(packet: Buffer): boolean {
  return peekType(packet) === PacketType.DATA && packet.length >= DATA_HEADER_LENGTH + MAC_LENGTH;
}

export function dataSeq(packet: Buffer): number {
  return packet.readUInt32BE(HEADER_LENGTH);
}

export function dataBlock(packet: Buffer): number {
  return packet.readUInt32BE(HEADER_LENGTH + 4);
}

/** The payload of a DATA packet is packet[DATA_HEADER_LENGTH, DATA_HEADER_LENGTH + this). */
export function dataPayloadLength(packet: Buffer): number {
  return packet.length - DATA_HEADER_LENGTH - MAC_LENGTH;
}

/**
 * A packet of this session, or undefined for anything else: unparsable,
 * forged (bad MAC) or from another session. The sockets count those and
 * move on; a stranger's packet is never an error.
 */
export function packetOfSession(packet: Buffer, auth: PacketAuth, sessionId: number): McastPacket | undefined {
  let decoded: McastPacket;
  try {
    decoded = decodePacket(packet, auth);
  } catch {
    return undefined;
  }
  return decoded.session === sessionId ? decoded : undefined;
}

/**
 * Verifies and parses one packet. Payloads are views into `packet`.
 * @throws WireError for short, foreign, forged or unknown packets.
 */
export function decodePacket(packet: Buffer, auth: PacketAuth): McastPacket {
  const { type, session } = checkPacket(packet, auth);
  const r = new ByteReader(packet, HEADER_LENGTH, packet.length - MAC_LENGTH);
  let decoded: McastPacket;
  switch (type) {
    case PacketType.ANNOUNCE: {
      const phase = r.u8();
      if (phase > Phase.ENDING) throw new WireError(`Cannot parse ANNOUNCE: phase ${phase}`);
      r.u8(); // flags, none defined
      decoded = {
        type,
        session,
        phase: phase as Phase,
        blockSize: r.u16(),
        totalBytes: u64(r),
        blockCount: r.u32(),
        groupSize: r.u16(),
        proactiveParity: r.u16(),
        rateKbps: r.u32(),
        controlPort: r.u16(),
        availableBlocks: r.u32(),
        nextBlock: r.u32(),
        seq: r.u32(),
        statusIntervalMs: r.u16(),
        ackEvery: r.u16(),
      };
      break;
    }
    case PacketType.JOIN:
      decoded = { type, session, receiver: r.u32(), report: r.u32() };
      break;
    case PacketType.STATUS: {
      const head = {
        receiver: r.u32(),
        report: r.u32(),
        seq: r.u32(),
        contiguous: r.u32(),
        complete: r.u32(),
        rateKiBps: r.u32(),
        received: r.u32(),
        firstBlock: r.u32(),
        receiveBuffer: r.u32(),
      };
      const count = r.u16();
      if (count * NEED_LENGTH !== r.remaining) throw new WireError(`Cannot parse STATUS: ${count} needs in ${r.remaining} bytes`);
      const needs: GroupNeed[] = [];
      for (let i = 0; i < count; i++) needs.push({ group: r.u32(), missing: r.u8(), maskLow: r.u32(), maskHigh: r.u32() });
      decoded = { type, session, ...head, needs };
      break;
    }
    case PacketType.DATA: {
      const seq = r.u32();
      const block = r.u32();
      decoded = { type, session, seq, block, payload: r.bytes(r.remaining) };
      break;
    }
    case PacketType.PARITY: {
      const seq = r.u32();
      const group = r.u32();
      const index = r.u16();
      decoded = { type, session, seq, group, index, payload: r.bytes(r.remaining) };
      break;
    }
    case PacketType.DROP: {
      const receiver = r.u32();
      const reason = r.u8();
      if (reason < DropReason.SILENT || reason > DropReason.SENDER_STOPPED) throw new WireError(`Cannot parse DROP: reason ${reason}`);
      decoded = { type, session, receiver, reason: reason as DropReason };
      break;
    }
    case PacketType.END:
      decoded = { type, session, seq: r.u32(), blockCount: r.u32(), final: r.u8() === 1 };
      break;
    case PacketType.DONE:
      decoded = { type, session, receiver: r.u32(), report: r.u32(), ack: r.u8() === 1 };
      break;
    default:
      throw new WireError(`Cannot parse packet: unknown type ${type}`);
  }
  if (r.remaining !== 0) throw new WireError(`Cannot parse packet type ${type}: ${r.remaining} stray bytes`);
  return decoded;
}

/** The common header; every encoder starts with it. */
function writeHeader(out: Buffer, type: PacketType, session: number): void {
  out.writeUInt16BE(MAGIC, 0);
  out[2] = VERSION;
  out[3] = type;
  out.writeUInt32BE(session >>> 0, 4);
}

/** Encodes a packet into `out` (a reusable buffer) and signs it; returns its length. */
export function encodePacketInto(out: Buffer, p: McastPacket, auth: PacketAuth): number {
  writeHeader(out, p.type, p.session);
  const length = writeBody(out, p) + MAC_LENGTH;
  auth.sign(out, length);
  return length;
}

/** Writes the body after the header; returns the offset after it. @private */
function writeBody(b: Buffer, p: McastPacket): number {
  let o = HEADER_LENGTH;
  switch (p.type) {
    case PacketType.ANNOUNCE:
      o = b.writeUInt8(p.phase, o);
      o = b.writeUInt8(0, o);
      o = b.writeUInt16BE(p.blockSize, o);
      o = b.writeUInt32BE(Math.floor(p.totalBytes / 0x1_0000_0000), o);
      o = b.writeUInt32BE(p.totalBytes % 0x1_0000_0000, o);
      o = b.writeUInt32BE(p.blockCount, o);
      o = b.writeUInt16BE(p.groupSize, o);
      o = b.writeUInt16BE(p.proactiveParity, o);
      o = b.writeUInt32BE(Math.min(p.rateKbps, 0xffffffff), o);
      o = b.writeUInt16BE(p.controlPort, o);
      o = b.writeUInt32BE(p.availableBlocks, o);
      o = b.writeUInt32BE(p.nextBlock, o);
      o = b.writeUInt32BE(p.seq >>> 0, o);
      o = b.writeUInt16BE(Math.min(p.statusIntervalMs, 0xffff), o);
      return b.writeUInt16BE(Math.min(p.ackEvery, 0xffff), o);
    case PacketType.JOIN:
      o = b.writeUInt32BE(p.receiver >>> 0, o);
      return b.writeUInt32BE(p.report >>> 0, o);
    case PacketType.STATUS:
      if (p.needs.length > MAX_STATUS_ENTRIES) throw new RangeError(`Cannot encode STATUS: ${p.needs.length} needs, at most ${MAX_STATUS_ENTRIES}`);
      o = b.writeUInt32BE(p.receiver >>> 0, o);
      o = b.writeUInt32BE(p.report >>> 0, o);
      o = b.writeUInt32BE(p.seq >>> 0, o);
      o = b.writeUInt32BE(p.contiguous, o);
      o = b.writeUInt32BE(p.complete, o);
      o = b.writeUInt32BE(Math.min(Math.round(p.rateKiBps), 0xffffffff), o);
      o = b.writeUInt32BE(p.received >>> 0, o);
      o = b.writeUInt32BE(p.firstBlock, o);
      o = b.writeUInt32BE(Math.min(p.receiveBuffer, 0xffffffff), o);
      o = b.writeUInt16BE(p.needs.length, o);
      for (const n of p.needs) {
        o = b.writeUInt32BE(n.group, o);
        o = b.writeUInt8(Math.min(n.missing, 255), o);
        o = b.writeUInt32BE(n.maskLow >>> 0, o);
        o = b.writeUInt32BE(n.maskHigh >>> 0, o);
      }
      return o;
    case PacketType.DATA:
      o = b.writeUInt32BE(p.seq >>> 0, o);
      o = b.writeUInt32BE(p.block, o);
      return o + p.payload.copy(b, o);
    case PacketType.PARITY:
      o = b.writeUInt32BE(p.seq >>> 0, o);
      o = b.writeUInt32BE(p.group, o);
      o = b.writeUInt16BE(p.index, o);
      return o + p.payload.copy(b, o);
    case PacketType.DROP:
      o = b.writeUInt32BE(p.receiver >>> 0, o);
      return b.writeUInt8(p.reason, o);
    case PacketType.END:
      o = b.writeUInt32BE(p.seq >>> 0, o);
      o = b.writeUInt32BE(p.blockCount, o);
      return b.writeUInt8(p.final ? 1 : 0, o);
    case PacketType.DONE:
      o = b.writeUInt32BE(p.receiver >>> 0, o);
      o = b.writeUInt32BE(p.report >>> 0, o);
      return b.writeUInt8(p.ack ? 1 : 0, o);
  }
}

/** Encodes a packet into a fresh Buffer (control packets; the data path reuses buffers). */
export function encodePacket(p: McastPacket, auth: PacketAuth): Buffer {
  const payload = p.type === PacketType.DATA || p.type === PacketType.PARITY ? p.payload.length : 0;
  const needs = p.type === PacketType.STATUS ? p.needs.length * NEED_LENGTH : 0;
  const out = Buffer.alloc(64 + payload + needs + MAC_LENGTH);
  return out.subarray(0, encodePacketInto(out, p, auth));
}

/**
 * The data path's encoder: writes a DATA or PARITY header in front of a
 * payload already placed at `out[DATA_HEADER_LENGTH]` /
 * `out[PARITY_HEADER_LENGTH]`, then signs. No objects, no copies.
 */
export function sealData(out: Buffer, session: number, seq: number, block: number, payloadLength: number, auth: PacketAuth): number {
  writeHeader(out, PacketType.DATA, session);
  out.writeUInt32BE(seq >>> 0, HEADER_LENGTH);
  out.writeUInt32BE(block, HEADER_LENGTH + 4);
  const length = DATA_HEADER_LENGTH + payloadLength + MAC_LENGTH;
  auth.sign(out, length);
  return length;
}

export function sealParity(out: Buffer, session: number, seq: number, group: number, index: number, payloadLength: number, auth: PacketAuth): number {
  writeHeader(out, PacketType.PARITY, session);
  out.writeUInt32BE(seq >>> 0, HEADER_LENGTH);
  out.writeUInt32BE(group, HEADER_LENGTH + 4);
  out.writeUInt16BE(index, HEADER_LENGTH + 8);
  const length = PARITY_HEADER_LENGTH + payloadLength + MAC_LENGTH;
  auth.sign(out, length);
  return length;
}
