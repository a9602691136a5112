/**
 * The receiving end of a session (docs/multicast.md): joins the group,
 * learns the layout from ANNOUNCE, writes blocks into the spool, rebuilds
 * lost ones from parity, tells the sender per FEC group what it still needs
 * (STATUS), and ends with DONE. A late joiner or a dropped receiver gets
 * the rest through `fetchRange`. Bad packets are counted and dropped.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Readable } from 'node:stream';
import { TrowelError } from '../errors.ts';
import { silentLogger } from '../log/logger.ts';
import { BlockMap } from './blockmap.ts';
import { FecCodec, type ParitySymbol } from './fec.ts';
import { fetchInto } from './fetch-into.ts';
import { PacketAuth } from './mac.ts';
import type { McastReceive, ReceiverOptions, ReceiverReport } from './index.ts';
import { blockLength, groupLength, layoutFor, type Layout } from './layout.ts';
import { runLength } from './packing.ts';
import {
  type AnnouncePacket,
  DATA_HEADER_LENGTH,
  dataBlock,
  dataPayloadLength,
  dataSeq,
  packetOfSession,
  DropReason,
  encodePacket,
  foreignVersion,
  isDataPacket,
  MAX_STATUS_ENTRIES,
  PacketType,
  peekSession,
  peekType,
  Phase,
  VERSION as PROTOCOL_VERSION,
} from './packet.ts';
import { abortError, bindSocket, closeQuietly, socketError } from './sockets.ts';
import { tuneIpReassembly } from '../sys/ip-reassembly.ts';
import { tuneGcForDatagrams } from './gc-tuning.ts';
import { startDrain, type Drain } from './datagram-drain.ts';
import { Spool } from './spool.ts';
import { SpoolReader } from './spool-reader.ts';

/** Socket receive buffer asked for; the kernel caps it at net.core.rmem_max. */
const RECEIVE_BUFFER = 16 << 20;
/**
 * The least receive buffer (as Linux reports it: double what was granted)
 * for reading the group's socket directly. Direct reading polls, so the
 * buffer must hold what arrives between two turns, and a busy or slow
 * machine runs them late: Linux's default (net.core.rmem_max 208 KiB, ~30
 * fragmented blocks) holds under 2 ms at 1 Gbit/s, 4 MiB ~16 ms. The PXE
 * image raises rmem_max to 8 MiB, so provisioning machines read directly.
 */
const DIRECT_READ_MIN_BUFFER = 4 << 20;
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_STATUS_MS = 50;
/**
 * DONE is repeated until the sender acknowledges it: first after 100 ms,
 * then at doubling intervals up to 1.6 s, DONE_TRIES times in all; the
 * receiver gives up 1.6 s after the last (~8 s after the first). A sender
 * busy with hundreds of receivers' reports may take seconds to read this
 * one; unheard, it would count the receiver as dropped. A gone sender
 * holds a finished receiver no longer than that.
 */
const DONE_RETRY_MS = 100;
const DONE_TRIES = 8;
/** Housekeeping runs when due, but not more often than this, nor sleeps longer. */
const MIN_TICK_MS = 10;
const MAX_TICK_MS = 1000;
/** Present blocks between missing runs a fallback fetch takes along rather than splitting the request (~1.4 MB). */
const FETCH_MERGE_BLOCKS = 1024;

export function receiveFile(options: ReceiverOptions): McastReceive {
  let receiver: Receiver;
  try {
    receiver = new Receiver(options);
  } catch (e) {
    // A key of the wrong size is the caller's input: a rejected `done` like every other failure here.
    const error = e instanceof RangeError ? new TrowelError('EMCAST_OPTIONS', e.message, { cause: e }) : (e as Error);
    return { readable: Readable.from([]).on('error', () => {}), done: Promise.reject(error) };
  }
  return { readable: receiver.reader, done: receiver.run() };
}

class Receiver {
  readonly reader: SpoolReader;
  private readonly options: ReceiverOptions;
  private readonly auth: PacketAuth;
  private readonly log;
  private readonly id: number;
  private data: Socket | undefined;
  private control: Socket | undefined;
  /** Reads the group's datagrams once the sender is known (datagram-drain.ts); until then dgram's 'message' does. */
  private drain: Drain | undefined;
  private drainRequested = false;
  private layout: Layout | undefined;
  private map: BlockMap | undefined;
  private spool: Spool | undefined;
  /** Where reports go: the sender's control port, from its ANNOUNCE. */
  private sender: { address: string; port: number } | undefined;
  /**
   * The sender's address: given (`senderAddress`), else pinned by the
   * first ANNOUNCE. Packets from any other address are not the sender's (a
   * key holder's packet replayed by a stranger) and are dropped, so a
   * replayed ANNOUNCE can't send this receiver's reports elsewhere.
   */
  private senderAddress: string | undefined;
  /** The `seq` of the newest ANNOUNCE taken: an older one is a replay. */
  private announcedSeq = 0;
  /** Reports (JOIN, STATUS, DONE) sent so far: each carries the next number (packet.ts, ReceiverReportFields). */
  private reports = 0;
  private statusIntervalMs = DEFAULT_STATUS_MS;
  private ackEvery = 0;
  private sinceStatus = 0;
  private receiveBuffer = 0;
  /** Joined while the sender still waited: everything comes by multicast, no prefix to fetch. */
  private joinedEarly = false;
  /** Groups below this come from fetchRange, not multicast (late join). */
  private firstGroup: number | undefined;
  /** Groups before this have had all their data sent (per what this receiver saw). */
  private passedGroups = 0;
  private readonly parity = new Map<number, ParitySymbol[]>();
  private groupBuffer = new Uint8Array(0);
  private codec: FecCodec | undefined;

  // Loss from sequence numbers: block packets are numbered by the sender.
  private highestSeq = -1;
  private received = 0;
  private firstSeq = -1;

  private duplicates = 0;
  /** Blocks that came with the multicast data stream (not repairs, parity or fetches). */
  private multicastBlocks = 0;
  private repaired = 0;
  private badPackets = 0;
  /** The first trowel packet of another protocol version: named if no session is ever heard. */
  private foreign: { version: number; from: string } | undefined;
  private fetchedBytes = 0;
  private dropped = false;
  private fallingBack = false;

  private readonly started = Date.now();
  private lastHeard = Date.now();
  private lastJoinSent = 0;
  private lastStatusSent = 0;
  /** Bytes complete at the last STATUS, for its rate. */
  private statusBytes = 0;
  /** While DONE waits for its acknowledgement: ends the wait. */
  private onDoneAcked: (() => void) | undefined;
  private lastProgressBytes = 0;
  private lastProgressAt = Date.now();
  /**
   * The housekeeping timer, armed for when something is next due (a STATUS,
   * a progress report, the silence bound) rather than on a fixed 10 ms beat:
   * hundreds of receivers sharing a machine's cores spent them on wakeups.
   */
  private tickTimer: NodeJS.Timeout | undefined;
  private settle: { resolve: (r: ReceiverReport) => void; reject: (e: Error) => void } | undefined;
  private finished = false;
  private fetches: Promise<void>[] = [];

  constructor(options: ReceiverOptions) {
    this.options = options;
    this.auth = new PacketAuth(options.key);
    tuneGcForDatagrams();
    this.log = options.log ?? silentLogger;
    this.id = options.receiverId ?? (Math.random() * 0xffffffff) >>> 0;
    this.senderAddress = options.senderAddress;
    this.reader = new SpoolReader({
      path: () => this.spool?.path,
      totalBytes: () => this.layout?.totalBytes,
      readableBytes: () => (this.map && this.layout ? Math.min(this.layout.totalBytes, this.map.contiguous * this.layout.blockSize) : 0),
      flush: () => this.spool?.flush(),
    });
  }

  run(): Promise<ReceiverReport> {
    return new Promise<ReceiverReport>((resolve, reject) => {
      this.settle = { resolve, reject };
      const signal = this.options.signal;
      const what = 'receiving the multicast session';
      if (signal?.aborted) return this.fail(abortError(signal, what));
      signal?.addEventListener('abort', () => this.fail(abortError(signal, what)), { once: true });
      this.open().catch((e: unknown) => this.fail(e));
    });
  }

  private async open(): Promise<void> {
    const { group, port, interfaceAddress } = this.options;
    // Blocks come as IP fragments: without this one lossy minute makes the kernel refuse them all (src/sys/ip-reassembly.ts).
    if (this.options.tuneReassembly !== false) {
      const tuning = await tuneIpReassembly();
      if (tuning.changed.length > 0) this.log.info('mcast.reassembly_tuned', { changed: tuning.changed });
      if (tuning.refused) this.log.info('mcast.reassembly_untuned', { reason: tuning.refused, timeSeconds: tuning.timeSeconds, highThreshBytes: tuning.highThreshBytes });
    }
    if (this.finished) return;
    const data = createSocket({ type: 'udp4', reuseAddr: true });
    this.data = data;
    const control = createSocket({ type: 'udp4' });
    this.control = control;
    data.on('error', (e) => this.fail(socketError('receive on', `${group}:${port}`, e)));
    control.on('error', (e) => this.fail(socketError('use the control socket on', interfaceAddress, e)));
    try {
      // Bound to the group address, the socket sees only this group's datagrams on the port.
      await bindSocket(data, port, group);
      data.addMembership(group, interfaceAddress);
      await bindSocket(control, 0, interfaceAddress);
    } catch (e) {
      throw socketError('join', `${group}:${port} on ${interfaceAddress}`, e);
    }
    if (this.finished) return;
    for (const socket of [data, control]) {
      try {
        // The control socket too: unicast repairs come to it in bursts of whole blocks, which Linux's default
        // buffer (~208 KiB, a dozen 9 KB datagrams) would mostly drop, to be asked for again.
        socket.setRecvBufferSize(this.options.receiveBufferBytes ?? RECEIVE_BUFFER);
      } catch {
        // Refused: the sender sizes its window to what the data socket got.
      }
    }
    this.receiveBuffer = data.getRecvBufferSize();
    // No closure per packet: the handlers run for every datagram.
    data.on('message', (msg, rinfo) => {
      try {
        this.onPacket(msg, rinfo.address, true, rinfo.port);
      } catch (e) {
        this.failOn(e);
      }
    });
    control.on('message', (msg, rinfo) => this.guard(() => this.onPacket(msg, rinfo.address, false)));
    this.log.debug('mcast.receiver_joined', { group, port, interfaceAddress, receiver: this.id });
    this.scheduleTick();
  }

  private scheduleTick(): void {
    if (!this.control) return; // settled
    const now = Date.now();
    let due = this.lastHeard + (this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (this.map) {
      due = Math.min(due, this.lastProgressAt + 1000);
      // Before the first block packet, due at the interval anyway: the first STATUS then goes out on time.
      if (!this.fallingBack) due = Math.min(due, (this.firstSeq >= 0 ? this.lastStatusSent : now) + this.statusIntervalMs);
    }
    this.tickTimer = setTimeout(() => {
      this.tickTimer = undefined;
      this.guard(() => this.onTick());
      this.scheduleTick();
    }, Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, due - now)));
  }

  /** Runs a socket or timer callback; what it throws (a full disk under the spool) fails the receive instead of the process. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.failOn(e);
    }
  }

  private failOn(e: unknown): void {
    this.fail(e instanceof TrowelError ? e : new TrowelError('EMCAST_SPOOL', `Cannot receive into ${this.options.spoolFile}: ${(e as Error).message}`, { cause: e }));
  }

  /** A datagram from `from`, on the group's socket (`multicast`) or the control socket (unicast repairs, DROP, DONE). */
  private onPacket(msg: Buffer, from: string, multicast: boolean, fromPort = 0): void {
    if (this.senderAddress !== undefined && from !== this.senderAddress) {
      this.badPackets++;
      return;
    }
    // DATA, nearly every packet: checked and taken in place, no objects.
    if (isDataPacket(msg)) {
      if (peekSession(msg) !== this.options.sessionId || !this.auth.verify(msg)) {
        this.badPackets++;
        return;
      }
      this.lastHeard = Date.now();
      this.onData(dataSeq(msg), dataBlock(msg), msg, multicast);
      return this.maybeAck();
    }
    if (peekType(msg) !== 0 && peekSession(msg) !== this.options.sessionId) {
      this.badPackets++;
      return;
    }
    const p = packetOfSession(msg, this.auth, this.options.sessionId);
    if (!p) {
      this.badPackets++;
      this.foreign ??= foreignSender(msg, from);
      return;
    }
    this.lastHeard = Date.now();
    switch (p.type) {
      case PacketType.PARITY:
        this.onParity(p.seq, p.group, p.index, p.payload, multicast);
        return this.maybeAck();
      case PacketType.ANNOUNCE:
        return multicast ? this.onAnnounce(p, from, fromPort) : undefined;
      case PacketType.END:
        // END is numbered like a block packet (sender.ts sendEnd).
        if (multicast) this.noteSeq(p.seq, true);
        if (this.layout) this.passedGroups = this.layout.groupCount;
        if (p.final && !this.map?.isComplete) return this.fallBack('the sender ended the session');
        return this.sendStatus(true);
      case PacketType.DROP:
        if (p.receiver !== this.id) return;
        return this.fallBack(`the sender dropped this receiver (${dropReasonText(p.reason)})`);
      case PacketType.DONE:
        if (p.ack && p.receiver === this.id) this.onDoneAcked?.();
        return;
      default:
        return; // JOIN and STATUS are for the sender
    }
  }

  /** Every `ackEvery` block packets a STATUS: the sender's window moves on these. */
  private maybeAck(): void {
    if (this.ackEvery > 0 && this.sinceStatus >= this.ackEvery) this.sendStatus(false);
  }

  private onAnnounce(p: AnnouncePacket, from: string, fromPort: number): void {
    if (p.seq < this.announcedSeq) {
      this.badPackets++;
      return;
    }
    this.announcedSeq = p.seq;
    if (!this.layout) {
      try {
        this.layout = layoutFor(p.totalBytes, p.blockSize, p.groupSize);
        this.spool = new Spool(this.options.spoolFile, p.totalBytes);
      } catch (e) {
        return this.fail(new TrowelError('EMCAST_SPOOL', `Cannot spool the stream into ${this.options.spoolFile}: ${(e as Error).message}`, { cause: e }));
      }
      this.map = new BlockMap(this.layout);
      this.groupBuffer = new Uint8Array(this.layout.groupSize * this.layout.blockSize);
      this.codec = new FecCodec(this.layout.groupSize, this.layout.blockSize);
      this.log.info('mcast.session_found', { session: p.session, bytes: p.totalBytes, blockSize: p.blockSize, groupSize: p.groupSize, phase: p.phase });
      this.reader.notify();
      if (this.map.isComplete) return this.finish();
    } else if (p.totalBytes !== this.layout.totalBytes || p.blockSize !== this.layout.blockSize || p.groupSize !== this.layout.groupSize) {
      this.badPackets++;
      return;
    }
    this.senderAddress = from;
    this.sender = { address: from, port: p.controlPort };
    if (fromPort > 0) this.drainFrom(from, fromPort);
    this.statusIntervalMs = Math.max(10, p.statusIntervalMs || DEFAULT_STATUS_MS);
    this.ackEvery = p.ackEvery;
    this.noteSeqBound(p.seq);
    if (p.phase === Phase.WAITING) {
      this.joinedEarly = true;
      const now = Date.now();
      if (now - this.lastJoinSent >= 50) {
        this.lastJoinSent = now;
        this.sendControl(encodePacket({ type: PacketType.JOIN, session: this.options.sessionId, receiver: this.id, report: ++this.reports }, this.auth));
      }
    } else if (p.phase === Phase.ENDING) {
      this.passedGroups = this.layout.groupCount;
    }
    if (this.firstGroup === undefined && p.phase !== Phase.WAITING) this.decideFirstGroup(p.nextBlock);
  }

  /**
   * Where multicast starts for this receiver. Joined in time: block 0. Late
   * with fetchRange: at the first whole group after what is on the wire now;
   * the prefix comes over HTTP at the same time. Late without it: block 0
   * too, its needs bring the prefix as repairs.
   */
  private decideFirstGroup(nextBlock: number): void {
    const layout = this.layout!;
    if (this.joinedEarly || !this.options.fetchRange || nextBlock === 0) {
      this.firstGroup = 0;
      return;
    }
    const first = Math.min(layout.groupCount, Math.ceil(nextBlock / layout.groupSize));
    this.firstGroup = first;
    const end = Math.min(layout.totalBytes, first * layout.groupSize * layout.blockSize);
    this.log.info('mcast.late_join', { receiver: this.id, fetchBytes: end, firstGroup: first });
    if (end > 0) this.fetch(0, end);
  }

  /**
   * A block packet arrived. Unicast repairs (on the control socket) reuse the
   * last multicast sequence number: they are neither counted nor move it.
   */
  private noteSeq(seq: number, multicast: boolean): void {
    if (!multicast) return;
    this.sinceStatus++;
    this.received++;
    if (this.firstSeq < 0) this.firstSeq = seq;
    if (seq > this.highestSeq) this.highestSeq = seq;
  }

  /** END and ANNOUNCE say which sequence number the sender has reached: packets up to it were lost or seen. */
  private noteSeqBound(seq: number): void {
    if (this.firstSeq >= 0 && seq > this.highestSeq) this.highestSeq = seq;
  }

  /** A DATA packet whose MAC checked out: a run of consecutive blocks (packing.ts), read in place. */
  private onData(seq: number, block: number, packet: Buffer, multicast: boolean): void {
    const layout = this.layout;
    if (!layout || this.fallingBack) return;
    const count = runLength(layout, block, dataPayloadLength(packet));
    if (count === 0) {
      this.badPackets++;
      return;
    }
    this.noteSeq(seq, multicast);
    if (this.firstGroup === undefined) this.decideFirstGroup(block);
    const passed = ((block + count) / layout.groupSize) | 0;
    if (passed > this.passedGroups) this.passedGroups = passed;
    const map = this.map!;
    let at = DATA_HEADER_LENGTH;
    for (let b = block; b < block + count; b++) {
      const end = at + blockLength(layout, b);
      if (!map.add(b)) {
        this.duplicates++;
        at = end;
        continue;
      }
      // A unicast repair lands out of order: written on its own, it doesn't break up the gathered run of multicast blocks.
      if (multicast) {
        this.spool!.write(b * layout.blockSize, packet, at, end);
        this.multicastBlocks++;
      } else {
        this.spool!.writeAt(b * layout.blockSize, packet.subarray(at, end));
      }
      at = end;
      const g = (b / layout.groupSize) | 0;
      const stored = this.parity.get(g);
      if (stored && stored.length >= map.groupMissing(g)) this.rebuild(g);
    }
    this.progressed();
  }

  private onParity(seq: number, group: number, row: number, payload: Buffer, multicast: boolean): void {
    const layout = this.layout;
    if (!layout || this.fallingBack) return;
    if (group >= layout.groupCount || payload.length !== layout.blockSize) {
      this.badPackets++;
      return;
    }
    this.noteSeq(seq, multicast);
    if (group + 1 > this.passedGroups) this.passedGroups = group + 1;
    const missing = this.map!.groupMissing(group);
    let stored = this.parity.get(group);
    if (missing === 0 || stored?.some((s) => s.row === row)) {
      this.duplicates++;
      return;
    }
    if (!stored) this.parity.set(group, (stored = []));
    // A copy: the packet's buffer is reused for the next datagram when read directly (datagram-drain.ts).
    stored.push({ row, data: Buffer.from(payload) });
    if (stored.length >= missing) this.rebuild(group);
  }

  /** Enough parity for group `g`: read its present blocks back, solve, write the rebuilt ones. */
  private rebuild(g: number): void {
    const layout = this.layout!;
    const map = this.map!;
    const codec = this.codec!;
    const symbols = this.parity.get(g)!;
    this.parity.delete(g);
    const k = groupLength(layout, g);
    const first = g * layout.groupSize;
    const start = first * layout.blockSize;
    const bytes = Math.min(k * layout.blockSize, layout.totalBytes - start);
    this.spool!.readInto(start, this.groupBuffer, bytes);
    const present = map.groupPresence(g);
    codec.clear(k);
    for (let i = 0; i < k; i++) {
      if (present[i]) codec.block(i).set(this.groupBuffer.subarray(i * layout.blockSize, Math.min(bytes, (i + 1) * layout.blockSize)));
    }
    for (const i of codec.recover(k, present, symbols)) {
      const block = first + i;
      this.spool!.writeAt(block * layout.blockSize, codec.block(i).subarray(0, blockLength(layout, block)));
      map.add(block);
      this.repaired++;
    }
    this.progressed();
  }

  private progressed(): void {
    this.reader.notify();
    if (this.map!.isComplete) this.finish();
  }

  private onTick(): void {
    const now = Date.now();
    if (!this.fallingBack && now - this.lastHeard > (this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS)) {
      const what = this.layout ? 'the session went silent' : 'no session was heard';
      const seconds = Math.round((now - this.lastHeard) / 1000);
      if (!this.layout && this.foreign) {
        return this.fail(new TrowelError('EMCAST_VERSION', `Cannot receive multicast session ${this.options.sessionId}: ${what} for ${seconds} s, only packets of multicast protocol version ${this.foreign.version} (from ${this.foreign.from}); this receiver speaks version ${PROTOCOL_VERSION}`, {
          hint: 'run the same trowel release on the sender and the receivers (a PXE image built from an older checkout, say)',
        }));
      }
      return this.fail(new TrowelError('EMCAST_TIMEOUT', `Cannot receive multicast session ${this.options.sessionId}: ${what} for ${seconds} s`, {
        hint: `check that the sender runs, and that ${this.options.group}:${this.options.port} reaches ${this.options.interfaceAddress} (IGMP snooping, firewall)`,
      }));
    }
    if (this.map && !this.fallingBack && this.firstSeq >= 0 && now - this.lastStatusSent >= this.statusIntervalMs) this.sendStatus(false);
    if (this.map && now - this.lastProgressAt >= 1000) this.reportProgress(now);
  }

  private reportProgress(now: number): void {
    const bytes = Math.min(this.layout!.totalBytes, this.map!.complete * this.layout!.blockSize);
    const rate = ((bytes - this.lastProgressBytes) * 1000) / (now - this.lastProgressAt);
    this.lastProgressBytes = bytes;
    this.lastProgressAt = now;
    this.options.onProgress?.({ bytes, total: this.layout!.totalBytes, bytesPerSecond: rate });
  }

  /** STATUS: needs per passed group, progress and loss since the last one. */
  private sendStatus(urgent: boolean): void {
    const now = Date.now();
    if (!this.map || !this.layout || this.finished || this.fallingBack || this.firstGroup === undefined) return;
    if (urgent && now - this.lastStatusSent < 10) return;
    const interval = now - this.lastStatusSent || 1;
    this.lastStatusSent = now;
    this.sinceStatus = 0;
    const map = this.map;
    const needs = map.needs(this.firstGroup, this.passedGroups, (g) => this.parity.get(g)?.length ?? 0, MAX_STATUS_ENTRIES);
    const completeBytes = Math.min(this.layout.totalBytes, map.complete * this.layout.blockSize);
    this.sendControl(encodePacket({
      type: PacketType.STATUS,
      session: this.options.sessionId,
      receiver: this.id,
      report: ++this.reports,
      seq: Math.max(0, this.highestSeq),
      contiguous: map.contiguous,
      complete: map.complete,
      rateKiBps: ((completeBytes - this.statusBytes) * 1000) / interval / 1024,
      received: this.received,
      firstBlock: this.firstGroup * this.layout.groupSize,
      receiveBuffer: this.receiveBuffer,
      needs,
    }, this.auth));
    this.statusBytes = completeBytes;
  }


  private sendControl(packet: Buffer): void {
    if (!this.sender || !this.control) return;
    this.control.send(packet, this.sender.port, this.sender.address);
  }

  private fallBack(why: string): void {
    if (this.fallingBack || this.finished) return;
    this.fallingBack = true;
    this.dropped = true;
    this.closeData();
    const fetchRange = this.options.fetchRange;
    if (!fetchRange || !this.map || !this.layout) {
      return this.fail(new TrowelError('EMCAST_DROPPED', `Cannot finish receiving multicast session ${this.options.sessionId}: ${why}`, {
        hint: 'fetch the stream over HTTP instead',
      }));
    }
    this.log.warn('mcast.fallback', { receiver: this.id, reason: why, missingBlocks: this.layout.blockCount - this.map.complete });
    const layout = this.layout;
    // A prefix fetch already running covers its range; fetch what lies beyond it.
    const from = (this.firstGroup ?? 0) * layout.groupSize;
    for (const [start, end] of this.map.missingRuns(this.fetches.length > 0 ? from : 0, FETCH_MERGE_BLOCKS)) {
      this.fetch(start * layout.blockSize, Math.min(layout.totalBytes, end * layout.blockSize));
    }
    void Promise.all(this.fetches).then(() => {
      if (!this.finished && this.map!.isComplete) this.finish();
    });
  }

  /** Fetches [start, end) bytes into the spool, marking whole blocks as they land. */
  private fetch(start: number, end: number): void {
    let marked = Math.floor(start / this.layout!.blockSize);
    const job = fetchInto(this.options.fetchRange!, this.layout!, start, end, (offset, chunk, blocksEnd) => {
      if (this.finished) return false;
      this.spool!.writeAt(offset, chunk);
      this.fetchedBytes += chunk.length;
      for (; marked < blocksEnd; marked++) this.map!.add(marked);
      this.progressed();
      return !this.finished;
    }).catch((e: unknown) => {
      this.fail(new TrowelError('EMCAST_FETCH', `Cannot fetch bytes ${start}-${end - 1} of the stream: ${(e as Error).message}`, { cause: e }));
    });
    this.fetches.push(job);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    // Everything is here: stop taking the group's traffic while DONE waits for its acknowledgement.
    this.closeData();
    const report = this.report();
    try {
      this.spool?.close();
    } catch (e) {
      const error = new TrowelError('EMCAST_SPOOL', `Cannot write ${this.options.spoolFile}: ${(e as Error).message}`, { cause: e });
      this.reader.destroy(error);
      return this.settleWith(error);
    }
    this.reader.notify();
    this.log.info('mcast.received', { receiver: this.id, ...report });
    if (this.dropped || !this.sender) return this.settleWith(undefined, report);
    // DONE until acknowledged, so the sender stops waiting for this receiver; bounded so a gone sender can't hold us.
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(timer);
      this.onDoneAcked = undefined;
      this.settleWith(undefined, report);
    };
    // Sent at 0, 0.1, 0.3, 0.7, 1.5, 3.1, 4.7 and 6.3 s; the acknowledgement ends the wait at once.
    const sendDone = () => {
      if (tries >= DONE_TRIES || !this.control) return stop(); // no control socket: settled meanwhile (failed, aborted)
      this.sendControl(encodePacket({ type: PacketType.DONE, session: this.options.sessionId, receiver: this.id, report: ++this.reports, ack: false }, this.auth));
      timer = setTimeout(sendDone, DONE_RETRY_MS * Math.min(16, 2 ** tries++));
    };
    this.onDoneAcked = stop;
    sendDone();
  }

  private report(): ReceiverReport {
    const seconds = (Date.now() - this.started) / 1000;
    const bytes = this.layout?.totalBytes ?? 0;
    const expected = this.firstSeq >= 0 ? this.highestSeq - this.firstSeq + 1 : 0;
    const lost = Math.max(0, expected - this.received);
    return {
      bytes,
      seconds,
      bytesPerSecond: seconds > 0 ? bytes / seconds : 0,
      duplicates: this.duplicates,
      repaired: this.repaired,
      lost,
      missedBlocks: Math.max(0, (this.layout?.blockCount ?? 0) - this.multicastBlocks),
      loss: expected > 0 ? lost / expected : 0,
      fetchedBytes: this.fetchedBytes,
      badPackets: this.badPackets,
      dropped: this.dropped,
    };
  }

  private fail(e: unknown): void {
    // Once complete, only DONE's acknowledgement is pending: nothing can fail the stream any more.
    if (this.finished) return;
    const error = e instanceof Error ? e : new Error(String(e));
    this.finished = true;
    try {
      this.spool?.close();
    } catch {
      // the first error is the one worth reporting
    }
    this.reader.destroy(error);
    this.settleWith(error);
  }

  private settleWith(error: Error | undefined, report?: ReceiverReport): void {
    clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    this.closeData();
    closeQuietly(this.control);
    this.control = undefined;
    const settle = this.settle;
    this.settle = undefined;
    if (!settle) return;
    if (error) settle.reject(error);
    else settle.resolve(report!);
  }

  /**
   * The sender is known: connect the group's socket to it, so the kernel
   * takes only its datagrams, and read them without dgram's per-datagram
   * cost (datagram-drain.ts). Where that can't be done the 'message' event
   * goes on as before.
   */
  private drainFrom(address: string, port: number): void {
    const data = this.data;
    if (!data || this.drainRequested || this.options.readDirectly === false) return;
    this.drainRequested = true;
    if (this.receiveBuffer < DIRECT_READ_MIN_BUFFER) {
      this.log.info('mcast.receiver_reads_by_event', {
        receiver: this.id,
        receiveBuffer: this.receiveBuffer,
        reason: `the socket's receive buffer is under ${DIRECT_READ_MIN_BUFFER} bytes: raise net.core.rmem_max to at least ${DIRECT_READ_MIN_BUFFER / 2}`,
      });
      return;
    }
    data.connect(port, address, (e?: Error) => {
      if (e || this.data !== data) return;
      this.drain = startDrain(
        data,
        (msg) => {
          try {
            this.onPacket(msg, address, true);
          } catch (err) {
            this.failOn(err);
          }
        },
        (err) => this.fail(socketError('receive on', `${this.options.group}:${this.options.port}`, err)),
      );
      this.log.debug('mcast.receiver_reads_directly', { receiver: this.id, sender: `${address}:${port}`, direct: this.drain !== undefined });
    });
  }

  private closeData(): void {
    this.drain?.stop();
    this.drain = undefined;
    closeQuietly(this.data);
    this.data = undefined;
  }
}

function dropReasonText(reason: number): string {
  return reason === DropReason.SILENT ? 'silent' : reason === DropReason.BEHIND ? 'too far behind' : 'sender stopped';
}

/** @private A packet of another trowel release, with where it came from. */
function foreignSender(packet: Buffer, from: string): { version: number; from: string } | undefined {
  const version = foreignVersion(packet);
  return version === undefined ? undefined : { version, from };
}
