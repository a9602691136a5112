/**
 * The sending end of a session (docs/multicast.md): announces, waits for
 * receivers, paces DATA at the current rate, sends the parity receivers ask
 * for (the most any one lacks per group), lowers the rate on congestion,
 * drops receivers that stay silent or behind, and repeats END until every
 * receiver is done or dropped.
 *
 * The data path is one timer-driven loop that sends a batch per tick from
 * a ring of reused packet buffers: no promise, no allocation per packet.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { TrowelError } from '../errors.ts';
import { silentLogger } from '../log/logger.ts';
import { BlockSource, openSourceFile } from './block-source.ts';
import { maxParityRows } from './fec.ts';
import { MAC_LENGTH, PacketAuth } from './mac.ts';
import type { ReceiverSummary, SenderOptions, SenderReport, SenderStats } from './index.ts';
import { blockSizeForDatagram, datagramSize, defaultFragments, groupLength, interfaceMtu, IP_UDP_OVERHEAD, layoutFor, type Layout } from './layout.ts';
import {
  DATA_HEADER_LENGTH,
  packetOfSession,
  DropReason,
  encodePacket,
  encodePacketInto,
  type McastPacket,
  PacketType,
  PARITY_HEADER_LENGTH,
  Phase,
  sealData,
  sealParity,
  type StatusPacket,
} from './packet.ts';
import { adaptPack, defaultMaxPack, MAX_PACK } from './packing.ts';
import { RateController, TokenBucket, WIRE_OVERHEAD } from './pacing.ts';
import { type ReceiverState, ReceiverTable, MIN_WINDOW } from './receiver-table.ts';
import { RepairPlanner, UNICAST_SEQ_MARGIN } from './repair-planner.ts';
import { abortError, bindSocket, closeQuietly, connectSocket, socketError } from './sockets.ts';

const DEFAULT_GROUP_SIZE = 64;
const DEFAULT_MAX_WAIT_MS = 60_000;
const DEFAULT_DROP_AFTER_MS = 10_000;
const ANNOUNCE_WAITING_MS = 100;
const ANNOUNCE_SENDING_MS = 250;
const END_REPEAT_MS = 20;
/** Datagram loss above which a receiver's last unicast repairs go out twice. */
const LOSSY_TAIL = 0.15;
/**
 * A receiver silent this long stops holding the window (at least 5 status
 * intervals): long enough for a receiver descheduled on a busy machine, short
 * enough that a dead one stalls the others for only a moment.
 */
const LAG_MS = 1000;
/** Packets sent per loop turn at most: bounds the time the loop holds the CPU and the ring slots in use. */
const BATCH = 256;
/** Reused packet buffers: more than any batch, so a slot is never rewritten while the kernel may still queue it. */
const RING = 1024;
const SEND_BUFFER = 8 << 20;
/**
 * The control socket's receive buffer: each END (and each ack point) brings
 * a STATUS from every receiver at once, and at Linux's default (~208 KiB,
 * ~1.3 KiB of buffer per small datagram) a few hundred receivers overflow
 * it; those whose reports keep landing in the overflow look silent and get
 * dropped.
 */
const CONTROL_RECEIVE_BUFFER = 4 << 20;
export function sendFile(options: SenderOptions): Promise<SenderReport> {
  try {
    return new Sender(options).run();
  } catch (e) {
    // Options out of range are the caller's input: one TrowelError, like every other failure here.
    return Promise.reject(e instanceof RangeError ? new TrowelError('EMCAST_OPTIONS', e.message, { cause: e }) : e);
  }
}

class Sender {
  private readonly options: SenderOptions;
  private readonly auth: PacketAuth;
  private readonly log;
  private readonly layout: Layout;
  private readonly proactive: number;
  private readonly source: BlockSource;
  private readonly planner: RepairPlanner;
  private readonly receivers = new ReceiverTable();
  private readonly aimd: RateController;
  private readonly bucket: TokenBucket;
  private data: Socket | undefined;
  private control: Socket | undefined;
  private controlPort = 0;

  private phase: Phase = Phase.WAITING;
  private seq = 0;
  private nextBlock = 0;
  private readonly ring: Buffer[];
  /** The UDP payload of a one-block packet: its datagram minus IP and UDP headers. */
  private readonly frameSize: number;
  /** Blocks per DATA datagram at most, and now (packing.ts: fewer while some receiver loses many datagrams). */
  private readonly maxPack: number;
  private pack: number;
  /** IP fragments of the MTU a one-block datagram is sent as. */
  private readonly fragmentsPerBlock: number;
  private ringIndex = 0;

  private readonly started = Date.now();
  private dataStarted = 0;
  private endingSince = 0;
  private lastAnnounce = 0;
  private lastEnd = 0;
  private lastStats = Date.now();
  private packetsSent = 0;
  private dataPackets = 0;
  private repairs = 0;
  private unicastRepairs = 0;
  /** Where the packet nextPacket() just built goes, when it is a unicast repair. */
  private unicastTo: ReceiverState | undefined;
  private proactiveSent = 0;
  private badPackets = 0;
  /** Receiver reports refused as not new (replayed or duplicated). */
  private replayedPackets = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private window = MIN_WINDOW;
  private windowBlocked = false;
  private windowBlockedTurns = 0;
  /** Time the window held the sender back (receivers not keeping up), for stats. */
  private heldMs = 0;
  private heldSince = 0;
  private windowHolder: ReceiverState | undefined;
  private lastSlowCheck = Date.now();
  private lastSlowCheckBytes = 0;
  private sentBytes = 0;
  private housekeeping: NodeJS.Timeout | undefined;
  private settle: { resolve: (r: SenderReport) => void; reject: (e: Error) => void } | undefined;
  private closed = false;

  constructor(options: SenderOptions) {
    this.options = options;
    this.auth = new PacketAuth(options.key);
    this.log = options.log ?? silentLogger;
    const mtu = options.mtu ?? interfaceMtu(options.interfaceAddress);
    this.fragmentsPerBlock = options.fragments ?? defaultFragments(mtu);
    const datagram = datagramSize(mtu, this.fragmentsPerBlock);
    const groupSize = options.fec?.groupSize ?? DEFAULT_GROUP_SIZE;
    this.proactive = options.fec?.proactiveParity ?? 0;
    if (!Number.isInteger(groupSize) || groupSize < 1 || groupSize > 255) throw new RangeError(`Cannot use FEC groups of ${groupSize} blocks: give 1 to 255`);
    if (!Number.isInteger(this.proactive) || this.proactive < 0 || this.proactive > maxParityRows(groupSize)) {
      throw new RangeError(`Cannot send ${this.proactive} proactive parity blocks per group of ${groupSize}: give 0 to ${maxParityRows(groupSize)}`);
    }
    if (!(options.rateBitsPerSecond > 0)) throw new RangeError(`Cannot send at ${options.rateBitsPerSecond} bit/s`);
    const { fd, size } = openSourceFile(options.file);
    this.layout = layoutFor(options.totalBytes ?? size, blockSizeForDatagram(datagram), groupSize);
    this.source = new BlockSource(fd, options.file, this.layout, options.availableBytes);
    this.planner = new RepairPlanner(this.layout.groupCount);
    this.aimd = new RateController({ capBitsPerSecond: options.rateBitsPerSecond });
    this.bucket = new TokenBucket(options.rateBitsPerSecond, performance.now());
    this.frameSize = datagram - IP_UDP_OVERHEAD;
    const maxPack = options.pack ?? defaultMaxPack(datagram, this.layout.blockSize);
    if (!Number.isInteger(maxPack) || maxPack < 1 || maxPack > MAX_PACK) throw new RangeError(`Cannot pack ${maxPack} blocks per datagram: give 1 to ${MAX_PACK}`);
    this.maxPack = maxPack;
    this.pack = maxPack;
    const slot = this.largestPacket(maxPack);
    const slab = Buffer.alloc(slot * RING);
    this.ring = Array.from({ length: RING }, (_, i) => slab.subarray(i * slot, (i + 1) * slot));
  }

  run(): Promise<SenderReport> {
    return new Promise<SenderReport>((resolve, reject) => {
      this.settle = { resolve, reject };
      const signal = this.options.signal;
      const what = 'the multicast session';
      if (signal?.aborted) return this.fail(abortError(signal, what));
      signal?.addEventListener('abort', () => this.fail(abortError(signal, what)), { once: true });
      this.open().then(
        () => {
          this.log.info('mcast.session_open', {
            session: this.options.sessionId, group: this.options.group, port: this.options.port, bytes: this.layout.totalBytes,
            blockSize: this.layout.blockSize, blocks: this.layout.blockCount, groupSize: this.layout.groupSize, controlPort: this.controlPort,
          });
          this.housekeeping = setInterval(() => this.onHousekeeping(), 20);
          this.kick();
        },
        (e: unknown) => this.fail(e),
      );
    });
  }

  private async open(): Promise<void> {
    const { group, port, interfaceAddress } = this.options;
    const data = createSocket({ type: 'udp4' });
    const control = createSocket({ type: 'udp4' });
    this.data = data;
    this.control = control;
    data.on('error', (e) => this.fail(socketError('send to', `${group}:${port}`, e)));
    control.on('error', (e) => this.fail(socketError('use the control socket on', interfaceAddress, e)));
    try {
      await bindSocket(data, 0, interfaceAddress);
      data.setMulticastInterface(interfaceAddress);
      data.setMulticastTTL(this.options.ttl ?? 1);
      data.setMulticastLoopback(this.options.loopback ?? false);
      // Connected: each send skips the address lookup dgram does per call otherwise.
      await connectSocket(data, port, group);
      await bindSocket(control, 0, interfaceAddress);
    } catch (e) {
      throw socketError('open a multicast sender on', `${interfaceAddress} for ${group}:${port}`, e);
    }
    try {
      data.setSendBufferSize(SEND_BUFFER);
    } catch {
      // capped by net.core.wmem_max: only more EAGAIN pauses
    }
    try {
      control.setRecvBufferSize(CONTROL_RECEIVE_BUFFER);
    } catch {
      // capped by net.core.rmem_max: reports beyond it are lost and sent again
    }
    this.controlPort = control.address().port;
    control.on('message', (msg, rinfo) => this.guard(() => this.onControl(msg, rinfo)));
  }

  // ---- control packets ---------------------------------------------------

  private onControl(msg: Buffer, rinfo: RemoteInfo): void {
    const p = packetOfSession(msg, this.auth, this.options.sessionId);
    if (!p) {
      this.badPackets++;
      return;
    }
    if (p.type !== PacketType.JOIN && p.type !== PacketType.STATUS && (p.type !== PacketType.DONE || p.ack)) {
      this.badPackets++;
      return;
    }
    const now = Date.now();
    const r = this.receiver(p.receiver, p.report, rinfo, now);
    if (!r) return;
    switch (p.type) {
      case PacketType.STATUS:
        return this.onStatus(p, r, now);
      case PacketType.DONE:
        if (r.state === 'active') {
          r.state = 'done';
          r.complete = this.layout.blockCount;
          this.log.info('mcast.receiver_done', { receiver: r.id, address: r.address });
        }
        this.sendTo(r, { type: PacketType.DONE, session: this.options.sessionId, receiver: r.id, report: p.report, ack: true });
        return;
    }
  }

  /** The receiver that sent report `report`; undefined (and counted) when the report is not new: a replay. */
  private receiver(id: number, report: number, rinfo: RemoteInfo, now: number): ReceiverState | undefined {
    const taken = this.receivers.report(id, report, rinfo.address, rinfo.port, now, this.seq);
    if (!taken) {
      this.replayedPackets++;
      return undefined;
    }
    const { receiver: r, added } = taken;
    if (added) this.log.info('mcast.receiver_joined', { receiver: id, address: rinfo.address, late: this.phase !== Phase.WAITING });
    // It may have missed its DROP: it is still talking.
    if (r.state === 'dropped') this.sendTo(r, { type: PacketType.DROP, session: this.options.sessionId, receiver: id, reason: DropReason.BEHIND });
    return r;
  }

  private onStatus(p: StatusPacket, r: ReceiverState, now: number): void {
    if (r.state !== 'active') return;
    if (this.receivers.status(r, p, now) && this.aimd.congestion(now)) {
      this.log.debug('mcast.rate_down', { receiver: r.id, loss: r.loss, rate: Math.round(this.aimd.rate) });
    }
    const sentGroups = this.phase === Phase.ENDING ? this.layout.groupCount : Math.floor(this.nextBlock / this.layout.groupSize);
    // While data flows a receiver may lag far behind the clock (its socket buffer): only sequence numbers tell freshness then.
    const clock = this.phase === Phase.ENDING ? now : 0;
    for (const need of p.needs) {
      if (need.group < sentGroups) this.planner.need(need.group, Math.min(need.missing, groupLength(this.layout, need.group)), p.seq, r.slot, clock, need.maskLow, need.maskHigh);
    }
    if (!this.planner.isEmpty || this.windowBlocked) this.kick();
  }

  private sendTo(r: ReceiverState, p: McastPacket): void {
    this.control?.send(encodePacket(p, this.auth), r.port, r.address);
  }

  // ---- the send loop --------------------------------------------------------

  /** Runs the loop as soon as pending I/O is handled (an ack moved the window, repairs are owed). */
  private kick(): void {
    this.schedule(0);
  }

  /** The loop's next turn: after `delayMs`, or (0) right after pending I/O, without a timer's millisecond. */
  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (delayMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.turn();
      }, delayMs);
    } else {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.turn();
      });
    }
  }

  /** A turn is pending. */
  private get scheduled(): boolean {
    return this.timer !== undefined || this.immediate !== undefined;
  }

  /** Runs a socket or timer callback; what it throws (the file vanished, a read error) fails the session instead of the process. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e);
    }
  }

  private turn(): void {
    this.guard(() => this.sendBatch());
  }

  private sendBatch(): void {
    if (this.closed) return;
    const now = performance.now();
    this.bucket.setRate(this.aimd.tick(now));
    this.bucket.refill(now);
    const data = this.data!;
    // The kernel still holds earlier sends (a full qdisc): wait for it rather than queue in userspace.
    if (data.getSendQueueCount() > 0) {
      this.schedule(1);
      return;
    }
    const room = this.windowRoom(Date.now());
    const blocked = room <= 0;
    if (blocked !== this.windowBlocked) {
      if (blocked) this.heldSince = now;
      else this.heldMs += now - this.heldSince;
    }
    this.windowBlocked = blocked;
    if (blocked) {
      this.windowBlockedTurns++;
      return; // a STATUS moving the window, or housekeeping, kicks the loop again
    }
    const limit = Math.min(BATCH, room);
    let sent = 0;
    let wait = -1;
    // Tokens for a full packet before building one: its exact size is known only once built.
    const largest = this.largestPacket(this.pack);
    const full = largest + WIRE_OVERHEAD;
    while (sent < limit) {
      if (!this.bucket.take(full)) {
        wait = this.bucket.waitMs(full);
        break;
      }
      const length = this.nextPacket();
      if (length === 0) {
        this.bucket.give(full);
        break;
      }
      this.bucket.give(largest - length);
      const frame = this.ring[this.ringIndex]!.subarray(0, length);
      const to = this.unicastTo;
      if (to) {
        this.unicastTo = undefined;
        this.control?.send(frame, to.port, to.address);
        // The tail of a lossy receiver's repairs: each round waits for a report, so a second copy saves rounds for a few bytes.
        if (this.phase === Phase.ENDING && to.loss > LOSSY_TAIL && this.bucket.take(length + WIRE_OVERHEAD)) {
          this.control?.send(frame, to.port, to.address);
          this.packetsSent++;
          this.repairs++;
          this.unicastRepairs++;
          this.sentBytes += length;
        }
      } else {
        data.send(frame);
      }
      this.ringIndex = (this.ringIndex + 1) % RING;
      this.packetsSent++;
      this.sentBytes += length;
      sent++;
    }
    if (this.closed) return;
    if (wait >= 0) this.schedule(Math.max(1, Math.floor(wait)));
    // More allowed now: go on after pending I/O (the receivers' acks).
    else if (sent === limit) this.schedule(0);
    // Otherwise idle: a STATUS with needs, tee data growing or a phase change kicks the loop.
  }

  /**
   * Packets the window allows now. A receiver's socket buffer holds what it
   * has not processed yet; more than that in flight is dropped by its
   * kernel. So the sender stays within part of the smallest receive buffer
   * of the slowest receiver's acknowledged position: slow (CPU-starved)
   * receivers clock the session instead of losing packets.
   */
  private windowRoom(now: number): number {
    const view = this.receivers.window(now, Math.max(LAG_MS, 5 * this.statusInterval()), this.largestPacket(this.pack));
    this.windowHolder = view?.holder;
    if (!view) return BATCH;
    this.window = view.size;
    return view.size - (this.seq - view.left);
  }

  /**
   * Builds the next packet into the current ring slot, counts it as sent,
   * and returns its length (0: nothing to send now). Repairs come before new data: they complete
   * groups receivers are waiting on, and are few.
   */
  private nextPacket(): number {
    if (this.phase === Phase.WAITING) return 0;
    const frame = this.ring[this.ringIndex]!;
    const repair = this.planner.next();
    if (repair) {
      const { group, symbol, proactive, to, block } = repair;
      const k = groupLength(this.layout, group);
      const rows = maxParityRows(this.layout.groupSize);
      // A unicast repair takes no multicast sequence number: the others must not count it as lost.
      this.unicastTo = to === undefined ? undefined : this.receivers.slots[to];
      const seq = this.unicastTo ? this.seq : this.seq + 1;
      let length: number;
      if (block !== undefined) {
        // The one receiver that asked said which blocks it lacks: the block itself, no parity to compute.
        const index = group * this.layout.groupSize + block;
        const bytes = this.source.blockAgain(index);
        frame.set(bytes, DATA_HEADER_LENGTH);
        length = sealData(frame, this.options.sessionId, seq, index, bytes.length, this.auth);
      } else if (symbol < rows) {
        frame.set(this.source.parity(group, symbol), PARITY_HEADER_LENGTH);
        length = sealParity(frame, this.options.sessionId, seq, group, symbol, this.layout.blockSize, this.auth);
      } else {
        // Every parity row is spent (a receiver lost more than 256 - k symbols): send the data again.
        const index = (symbol - rows) % k;
        const bytes = this.source.repairBlock(group, index);
        frame.set(bytes, DATA_HEADER_LENGTH);
        length = sealData(frame, this.options.sessionId, seq, group * this.layout.groupSize + index, bytes.length, this.auth);
      }
      this.seq = seq;
      // Once the data is out only END moves the sequence, every endRepeat() ms: a repair counts as arrived once its receiver saw the next END.
      this.planner.sent(group, seq, this.unicastTo ? Date.now() : 0, this.phase === Phase.ENDING ? 1 : UNICAST_SEQ_MARGIN);
      if (proactive) this.proactiveSent++;
      else this.repairs++;
      if (this.unicastTo) this.unicastRepairs++;
      return length;
    }
    const available = this.source.availableBlocks();
    if (this.nextBlock < available) {
      const block = this.nextBlock;
      const group = Math.floor(block / this.layout.groupSize);
      const groupEnd = Math.min(this.layout.blockCount, (group + 1) * this.layout.groupSize);
      // A run of consecutive blocks, within one group: the group's reads and parity stay per group.
      const count = Math.min(this.pack, groupEnd - block, available - block);
      const bytes = this.source.dataRun(block, count);
      frame.set(bytes, DATA_HEADER_LENGTH);
      const seq = this.seq + 1;
      const length = sealData(frame, this.options.sessionId, seq, block, bytes.length, this.auth);
      this.seq = seq;
      this.nextBlock = block + count;
      this.dataPackets++;
      const lastOfGroup = block + count === groupEnd;
      if (lastOfGroup && this.proactive > 0) this.planner.proactive(group, this.proactive);
      return length;
    }
    if (this.nextBlock >= this.layout.blockCount && this.phase === Phase.SENDING) this.enterEnding();
    return 0;
  }

  /** The largest UDP payload while DATA carries up to `pack` blocks: such a DATA packet, or a one-block PARITY one. */
  private largestPacket(pack: number): number {
    return Math.max(this.frameSize, DATA_HEADER_LENGTH + pack * this.layout.blockSize + MAC_LENGTH);
  }

  /** Packs fewer blocks per datagram while some receiver loses many datagrams, more once none does (packing.ts). */
  private adaptPacking(): void {
    const loss = this.receivers.worstActiveLoss();
    const pack = adaptPack(this.pack, this.maxPack, loss, this.fragmentsPerBlock);
    if (pack === this.pack) return;
    this.log.debug('mcast.pack', { blocks: pack, loss });
    this.pack = pack;
  }

  // ---- phases, announcements, receivers ------------------------------------

  private onHousekeeping(): void {
    if (this.closed) return;
    const now = Date.now();
    try {
      this.adaptPacking();
      if (this.phase === Phase.WAITING) this.checkStart(now);
      const announceEvery = this.phase === Phase.WAITING ? ANNOUNCE_WAITING_MS : ANNOUNCE_SENDING_MS;
      if (now - this.lastAnnounce >= announceEvery) this.announce(now);
      if (this.phase === Phase.ENDING && now - this.lastEnd >= this.endRepeat()) this.sendEnd(false, now);
      if (this.phase !== Phase.WAITING) this.checkReceivers(now);
      if (this.phase === Phase.SENDING && now - this.lastSlowCheck >= 1000) this.checkSlow(now);
      if (this.windowBlocked && !this.scheduled) this.kick();
      if (now - this.lastStats >= 1000) {
        this.lastStats = now;
        const stats = this.stats();
        this.options.onStats?.(stats);
        this.log.debug('mcast.stats', { ...stats });
      }
      if (this.phase === Phase.SENDING && !this.scheduled) this.kick(); // tee data may have grown
      if (this.phase === Phase.ENDING && !this.scheduled && !this.planner.isEmpty) this.kick();
      if (this.phase === Phase.ENDING && this.options.endTimeoutMs !== undefined && now - this.endingSince > this.options.endTimeoutMs) {
        for (const r of this.receivers.all.values()) if (r.state === 'active') this.drop(r, 'end timeout');
      }
      if (this.phase === Phase.ENDING && this.receivers.counts().active === 0) this.complete();
    } catch (e) {
      this.fail(e);
    }
  }

  private checkStart(now: number): void {
    const joined = this.receivers.all.size;
    const waited = now - this.started;
    const maxWait = this.options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    if (joined >= (this.options.minReceivers ?? 1) || (joined > 0 && waited >= maxWait)) {
      this.phase = Phase.SENDING;
      this.dataStarted = now;
      this.log.info('mcast.data_start', { receivers: joined, waitedMs: waited });
      this.announce(now);
      this.kick();
      return;
    }
    const joinTimeout = this.options.joinTimeoutMs ?? maxWait + 60_000;
    if (waited >= joinTimeout) {
      this.fail(new TrowelError('EMCAST_NO_RECEIVERS', `Cannot start multicast session ${this.options.sessionId}: no receiver joined within ${Math.round(waited / 1000)} s`, {
        hint: `check that receivers listen on ${this.options.group}:${this.options.port} with the same session id and key`,
      }));
    }
  }

  private announce(now: number): void {
    this.lastAnnounce = now;
    const frame = Buffer.allocUnsafe(128);
    const length = encodePacketInto(frame, {
      type: PacketType.ANNOUNCE,
      session: this.options.sessionId,
      phase: this.phase,
      blockSize: this.layout.blockSize,
      totalBytes: this.layout.totalBytes,
      blockCount: this.layout.blockCount,
      groupSize: this.layout.groupSize,
      proactiveParity: this.proactive,
      rateKbps: Math.round(this.aimd.rate / 1000),
      controlPort: this.controlPort,
      availableBlocks: this.source.availableBlocks(),
      nextBlock: this.nextBlock,
      seq: this.seq,
      statusIntervalMs: this.statusInterval(),
      ackEvery: Math.max(8, Math.floor(this.window / 8)),
    }, this.auth);
    this.data?.send(frame.subarray(0, length));
  }

  /** Each receiver reports every 50 ms; beyond 100 receivers the interval grows so STATUS stays near 2000/s in total. */
  private statusInterval(): number {
    return Math.max(50, Math.round(this.receivers.all.size / 2));
  }

  /**
   * END's period once the data is out: each END brings a STATUS from every
   * receiver, which is when the next round of repairs can start; 20 ms up to
   * 40 receivers, then growing like the status interval.
   */
  private endRepeat(): number {
    return Math.max(END_REPEAT_MS, Math.round(this.receivers.all.size / 2));
  }

  private enterEnding(): void {
    this.phase = Phase.ENDING;
    this.endingSince = Date.now();
    this.log.info('mcast.data_sent', { seconds: (this.endingSince - this.dataStarted) / 1000, packets: this.packetsSent, repairs: this.repairs });
    this.sendEnd(false, this.endingSince);
  }

  /**
   * END takes a sequence number of its own, like a block packet: a receiver
   * that saw it has seen everything sent before, which is what tells the
   * repair planner that a unicast repair had time to arrive (nothing else
   * is multicast once the data is out).
   */
  private sendEnd(final: boolean, now: number): void {
    this.lastEnd = now;
    this.seq++;
    this.data?.send(encodePacket({ type: PacketType.END, session: this.options.sessionId, seq: this.seq, blockCount: this.layout.blockCount, final }, this.auth));
  }

  /**
   * Once a second: if the window held the session below the floor rate,
   * the receiver holding it gets a strike; dropAfterMs worth of strikes in a
   * row and it is dropped (it fetches the rest over HTTP). A session as slow
   * as its slowest receiver is the point of the window, but only down to a floor.
   */
  private checkSlow(now: number): void {
    const seconds = (now - this.lastSlowCheck) / 1000;
    const bitsPerSecond = ((this.sentBytes - this.lastSlowCheckBytes) * 8) / seconds;
    this.lastSlowCheck = now;
    this.lastSlowCheckBytes = this.sentBytes;
    const held = this.windowBlockedTurns > 0 && bitsPerSecond < this.aimd.floor;
    this.windowBlockedTurns = 0;
    const dropAfter = this.options.dropAfterMs ?? DEFAULT_DROP_AFTER_MS;
    for (const r of this.receivers.all.values()) {
      if (held && r === this.windowHolder) r.slowSeconds += seconds;
      else r.slowSeconds = 0;
      if (r.state === 'active' && r.slowSeconds * 1000 >= dropAfter) this.drop(r, 'behind');
    }
  }

  private drop(r: ReceiverState, reason: string): void {
    r.state = 'dropped';
    r.reason = reason;
    this.log.warn('mcast.receiver_dropped', { receiver: r.id, address: r.address, reason });
    this.sendTo(r, { type: PacketType.DROP, session: this.options.sessionId, receiver: r.id, reason: reason === 'silent' ? DropReason.SILENT : DropReason.BEHIND });
  }

  private checkReceivers(now: number): void {
    const dropAfter = this.options.dropAfterMs ?? DEFAULT_DROP_AFTER_MS;
    for (const r of this.receivers.all.values()) {
      if (r.state !== 'active') continue;
      let reason: string | undefined;
      if (now - r.lastHeard > dropAfter) reason = 'silent';
      // Congested while the rate is already at its floor: this receiver can't follow even the slowest pace.
      else if (r.congestedSince !== undefined && this.aimd.atFloor && now - r.congestedSince > dropAfter) reason = 'congested';
      else if (this.phase === Phase.ENDING && now - Math.max(r.lastProgress, this.endingSince) > dropAfter) reason = 'no progress';
      if (reason) this.drop(r, reason);
    }
  }

  private stats(): SenderStats {
    const { active, done, dropped, worstLoss: loss } = this.receivers.counts();
    return {
      phase: this.phase === Phase.WAITING ? 'waiting' : this.phase === Phase.SENDING ? 'sending' : 'ending',
      receivers: active,
      done,
      dropped,
      bytesSent: Math.min(this.layout.totalBytes, this.nextBlock * this.layout.blockSize),
      totalBytes: this.layout.totalBytes,
      repairs: this.repairs,
      proactive: this.proactiveSent,
      loss,
      rateBitsPerSecond: Math.round(this.aimd.rate),
      packetsSent: this.packetsSent,
      window: this.window,
      windowHeldSeconds: (this.heldMs + (this.windowBlocked ? performance.now() - this.heldSince : 0)) / 1000,
    };
  }

  private complete(): void {
    const now = Date.now();
    // Receivers that missed their DONE ack, or were dropped, learn the session is over.
    for (let i = 0; i < 3; i++) this.sendEnd(true, now);
    const report: SenderReport = {
      bytes: this.layout.totalBytes,
      seconds: (now - this.started) / 1000,
      dataSeconds: (now - (this.dataStarted || now)) / 1000,
      blockSize: this.layout.blockSize,
      blockCount: this.layout.blockCount,
      packetsSent: this.packetsSent,
      dataPackets: this.dataPackets,
      repairs: this.repairs,
      unicastRepairs: this.unicastRepairs,
      proactive: this.proactiveSent,
      badPackets: this.badPackets,
      replayedPackets: this.replayedPackets,
      receivers: [...this.receivers.all.values()].map((r): ReceiverSummary => ({ id: r.id, address: r.address, state: r.state, reason: r.reason, loss: r.loss })),
      rateBitsPerSecond: Math.round(this.aimd.rate),
      windowHeldSeconds: this.stats().windowHeldSeconds,
    };
    this.log.info('mcast.session_end', { ...report, receivers: report.receivers.length });
    this.close();
    const settle = this.settle;
    this.settle = undefined;
    settle?.resolve(report);
  }

  private fail(e: unknown): void {
    if (this.closed) return;
    const error = e instanceof Error ? e : new Error(String(e));
    // Tell receivers to fall back now rather than wait for a timeout.
    try {
      this.sendEnd(true, Date.now());
    } catch {
      // the socket may be what failed
    }
    this.close();
    const settle = this.settle;
    this.settle = undefined;
    settle?.reject(error);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    if (this.housekeeping) clearInterval(this.housekeeping);
    closeQuietly(this.data, this.control);
    this.source.close();
  }
}
