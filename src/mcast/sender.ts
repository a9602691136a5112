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
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { TrowelError } from '../errors.ts';
import { silentLogger } from '../log/logger.ts';
import { FecCodec, maxParityRows } from './fec.ts';
import { PacketAuth } from './hmac.ts';
import type { ReceiverSummary, SenderOptions, SenderReport, SenderStats } from './index.ts';
import { blockLength, blockSizeForMtu, groupLength, interfaceMtu, IP_UDP_OVERHEAD, layoutFor, type Layout } from './layout.ts';
import {
  DATA_HEADER_LENGTH,
  decodePacket,
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
import { LossBaseline, RateController, TokenBucket, WIRE_OVERHEAD } from './pacing.ts';
import { RepairPlanner } from './repair-planner.ts';

const DEFAULT_GROUP_SIZE = 64;
const DEFAULT_MAX_WAIT_MS = 60_000;
const DEFAULT_DROP_AFTER_MS = 10_000;
const ANNOUNCE_WAITING_MS = 100;
const ANNOUNCE_SENDING_MS = 250;
const END_REPEAT_MS = 50;
/**
 * A receiver silent this long stops holding the window (at least 5 status
 * intervals): long enough for a receiver descheduled on a busy machine, short
 * enough that a dead one stalls the others for only a moment.
 */
const LAG_MS = 1000;
/** Packets per loss sample (see sampleLoss). */
const LOSS_SAMPLE = 2000;
/** Packets sent per loop turn at most: bounds the time the loop holds the CPU and the ring slots in use. */
const BATCH = 256;
/** Reused packet buffers: more than any batch, so a slot is never rewritten while the kernel may still queue it. */
const RING = 1024;
const SEND_BUFFER = 8 << 20;
/** Window bounds in packets: at least a few groups in flight, at most what a 4 MiB buffer holds at jumbo size. */
const MIN_WINDOW = 64;
const MAX_WINDOW = 16384;
/** Share of a receiver's buffer the window may fill: the rest absorbs bursts and control packets. */
const WINDOW_SHARE = 0.6;
/** Receive buffer assumed before a receiver reports its own (Linux's default net.core.rmem_default, doubled). */
const DEFAULT_RECEIVE_BUFFER = 425984;

interface ReceiverState {
  id: number;
  address: string;
  port: number;
  state: 'active' | 'done' | 'dropped';
  reason?: string;
  lastHeard: number;
  complete: number;
  lastProgress: number;
  loss: number;
  baseline: LossBaseline;
  congestedSince: number | undefined;
  /** Highest sequence number it has seen: the window's left edge is the least of these. */
  ackSeq: number;
  /** Its socket's receive buffer (bytes), which bounds the window. */
  receiveBuffer: number;
  /** Where its current loss sample started: its seq and received count then. */
  sampleSeq: number;
  sampleReceived: number;
  /** Seconds in a row it held the window while the session ran below the floor rate. */
  slowSeconds: number;
}

/**
 * What one datagram costs in a receiver's socket buffer (skb truesize), as
 * measured on veth: 2304 bytes for a 1472-byte payload, 16.6 KB for 8972
 * (page-sized allocations past one page).
 */
export function truesize(frame: number): number {
  if (frame <= 3000) return frame + 832;
  return 2 ** Math.ceil(Math.log2(frame + 320)) + 256;
}

export function sendFile(options: SenderOptions): Promise<SenderReport> {
  try {
    return new Sender(options).run();
  } catch (e) {
    // Options out of range are the caller's input: one TrowelError, like every other failure here.
    return Promise.reject(e instanceof RangeError ? new TrowelError('EMCAST_OPTIONS', e.message, { cause: e }) : e);
  }
}

function bindSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function connectSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

class Sender {
  private readonly options: SenderOptions;
  private readonly auth: PacketAuth;
  private readonly log;
  private readonly layout: Layout;
  private readonly proactive: number;
  private readonly fd: number;
  private readonly planner: RepairPlanner;
  private readonly receivers = new Map<number, ReceiverState>();
  private readonly aimd: RateController;
  private readonly bucket: TokenBucket;
  private data: Socket | undefined;
  private control: Socket | undefined;
  private controlPort = 0;

  private phase: Phase = Phase.WAITING;
  private seq = 0;
  private nextBlock = 0;
  private readonly ring: Buffer[];
  /** The largest UDP payload: MTU minus IP and UDP headers. */
  private readonly frameSize: number;
  private ringIndex = 0;
  /** The group whose blocks are being sent, read from the file once. */
  private readonly dataGroup: Uint8Array;
  private dataGroupIndex = -1;
  private dataGroupLoaded = 0;
  /** The group last read for repairs (staged, then in the codec): its parity rows usually go out back to back. */
  private readonly repairGroup: Uint8Array;
  private repairGroupIndex = -1;
  private readonly codec: FecCodec;

  private readonly started = Date.now();
  private dataStarted = 0;
  private endingSince = 0;
  private lastAnnounce = 0;
  private lastEnd = 0;
  private lastStats = Date.now();
  private packetsSent = 0;
  private dataPackets = 0;
  private repairs = 0;
  private proactiveSent = 0;
  private badPackets = 0;
  private timer: NodeJS.Timeout | undefined;
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
    const groupSize = options.fec?.groupSize ?? DEFAULT_GROUP_SIZE;
    this.proactive = options.fec?.proactiveParity ?? 0;
    if (!Number.isInteger(groupSize) || groupSize < 1 || groupSize > 255) throw new RangeError(`Cannot use FEC groups of ${groupSize} blocks: give 1 to 255`);
    if (!Number.isInteger(this.proactive) || this.proactive < 0 || this.proactive > maxParityRows(groupSize)) {
      throw new RangeError(`Cannot send ${this.proactive} proactive parity blocks per group of ${groupSize}: give 0 to ${maxParityRows(groupSize)}`);
    }
    if (!(options.rateBitsPerSecond > 0)) throw new RangeError(`Cannot send at ${options.rateBitsPerSecond} bit/s`);
    try {
      this.fd = openSync(options.file, 'r');
    } catch (e) {
      throw new TrowelError('EMCAST_FILE', `Cannot send ${options.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    const totalBytes = options.totalBytes ?? fstatSync(this.fd).size;
    this.layout = layoutFor(totalBytes, blockSizeForMtu(mtu), groupSize);
    this.planner = new RepairPlanner(this.layout.groupCount);
    this.aimd = new RateController({ capBitsPerSecond: options.rateBitsPerSecond });
    this.bucket = new TokenBucket(options.rateBitsPerSecond, performance.now());
    const frameSize = mtu - IP_UDP_OVERHEAD;
    this.frameSize = frameSize;
    const slab = Buffer.alloc(frameSize * RING);
    this.ring = Array.from({ length: RING }, (_, i) => slab.subarray(i * frameSize, (i + 1) * frameSize));
    const groupBytes = groupSize * this.layout.blockSize;
    this.dataGroup = new Uint8Array(groupBytes);
    this.repairGroup = new Uint8Array(groupBytes);
    this.codec = new FecCodec(groupSize, this.layout.blockSize);
  }

  run(): Promise<SenderReport> {
    return new Promise<SenderReport>((resolve, reject) => {
      this.settle = { resolve, reject };
      const signal = this.options.signal;
      if (signal?.aborted) return this.fail(abortError(signal));
      signal?.addEventListener('abort', () => this.fail(abortError(signal)), { once: true });
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
    this.controlPort = control.address().port;
    control.on('message', (msg, rinfo) => this.guard(() => this.onControl(msg, rinfo)));
  }

  // ---- control packets ---------------------------------------------------

  private onControl(msg: Buffer, rinfo: RemoteInfo): void {
    let p: McastPacket;
    try {
      p = decodePacket(msg, this.auth);
    } catch {
      this.badPackets++;
      return;
    }
    if (p.session !== this.options.sessionId) {
      this.badPackets++;
      return;
    }
    const now = Date.now();
    switch (p.type) {
      case PacketType.JOIN:
        this.receiver(p.receiver, rinfo, now);
        return;
      case PacketType.STATUS:
        return this.onStatus(p, rinfo, now);
      case PacketType.DONE: {
        if (p.ack) return;
        const r = this.receiver(p.receiver, rinfo, now);
        if (r.state === 'active') {
          r.state = 'done';
          r.complete = this.layout.blockCount;
          this.log.info('mcast.receiver_done', { receiver: r.id, address: r.address });
        }
        this.sendTo(r, { type: PacketType.DONE, session: this.options.sessionId, receiver: r.id, ack: true });
        return;
      }
      default:
        this.badPackets++;
    }
  }

  private receiver(id: number, rinfo: RemoteInfo, now: number): ReceiverState {
    let r = this.receivers.get(id);
    if (!r) {
      r = {
        id, address: rinfo.address, port: rinfo.port, state: 'active', lastHeard: now, complete: 0, lastProgress: now,
        loss: 0, baseline: new LossBaseline(), congestedSince: undefined,
        // A late joiner must not hold the window back to its first report.
        ackSeq: this.seq, receiveBuffer: DEFAULT_RECEIVE_BUFFER, slowSeconds: 0,
        sampleSeq: -1, sampleReceived: 0,
      };
      this.receivers.set(id, r);
      this.log.info('mcast.receiver_joined', { receiver: id, address: rinfo.address, late: this.phase !== Phase.WAITING });
    }
    r.lastHeard = now;
    r.port = rinfo.port;
    if (r.state === 'dropped') this.sendTo(r, { type: PacketType.DROP, session: this.options.sessionId, receiver: id, reason: DropReason.BEHIND });
    return r;
  }

  private onStatus(p: StatusPacket, rinfo: RemoteInfo, now: number): void {
    const r = this.receiver(p.receiver, rinfo, now);
    if (r.state !== 'active') return;
    if (p.complete > r.complete) {
      r.complete = p.complete;
      r.lastProgress = now;
    }
    if (p.seq > r.ackSeq) r.ackSeq = p.seq;
    if (p.receiveBuffer > 0) r.receiveBuffer = p.receiveBuffer;
    this.sampleLoss(r, p, now);
    const sentGroups = this.phase === Phase.ENDING ? this.layout.groupCount : Math.floor(this.nextBlock / this.layout.groupSize);
    for (const need of p.needs) {
      if (need.group < sentGroups) this.planner.need(need.group, Math.min(need.missing, groupLength(this.layout, need.group)), p.seq);
    }
    if (!this.planner.isEmpty || this.windowBlocked) this.kick();
  }

  /**
   * Loss over at least LOSS_SAMPLE packets, each sample judged once: over a
   * few hundred packets 5% random loss reads anywhere from 2% to 8%, and
   * one loss event must not count again in every STATUS that follows it.
   */
  private sampleLoss(r: ReceiverState, p: StatusPacket, now: number): void {
    if (r.sampleSeq < 0 || p.received < r.sampleReceived) {
      r.sampleSeq = p.seq;
      r.sampleReceived = p.received;
      return;
    }
    const expected = p.seq - r.sampleSeq;
    if (expected < LOSS_SAMPLE) return;
    r.loss = Math.max(0, 1 - (p.received - r.sampleReceived) / expected);
    r.sampleSeq = p.seq;
    r.sampleReceived = p.received;
    if (r.baseline.report(r.loss)) {
      r.congestedSince ??= now;
      if (this.aimd.congestion(now)) this.log.debug('mcast.rate_down', { receiver: r.id, loss: r.loss, rate: Math.round(this.aimd.rate) });
    } else {
      r.congestedSince = undefined;
    }
  }

  private sendTo(r: ReceiverState, p: McastPacket): void {
    this.control?.send(encodePacket(p, this.auth), r.port, r.address);
  }

  // ---- the send loop --------------------------------------------------------

  /** Runs the loop now unless a turn is already scheduled sooner. */
  private kick(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.turn(), 0);
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
    this.timer = undefined;
    if (this.closed) return;
    const now = performance.now();
    this.bucket.setRate(this.aimd.tick(now));
    this.bucket.refill(now);
    const data = this.data!;
    // The kernel still holds earlier sends (a full qdisc): wait for it rather than queue in userspace.
    if (data.getSendQueueCount() > 0) {
      this.timer = setTimeout(() => this.turn(), 1);
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
    // Tokens for a full frame before building one: the packet's exact size is known only once built.
    const full = this.frameSize + WIRE_OVERHEAD;
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
      this.bucket.give(this.frameSize - length);
      data.send(this.ring[this.ringIndex]!.subarray(0, length));
      this.ringIndex = (this.ringIndex + 1) % RING;
      this.packetsSent++;
      this.sentBytes += length;
      sent++;
    }
    if (this.closed) return;
    if (wait >= 0) this.timer = setTimeout(() => this.turn(), Math.max(1, Math.floor(wait)));
    else if (sent === limit) this.timer = setTimeout(() => this.turn(), 0);
    // Otherwise idle: a STATUS with needs, tee data growing or a phase change kicks the loop.
  }

  /**
   * Packets the window allows now. A receiver's socket buffer holds what it
   * has not processed yet; more than that in flight is dropped by its
   * kernel. So the sender stays within half the smallest receive buffer of
   * the slowest receiver's acknowledged position: slow (CPU-starved)
   * receivers clock the session instead of losing packets. Receivers not
   * heard from lately don't hold the window (a dead one must not stall the
   * rest); they are dropped later if they stay silent.
   */
  private windowRoom(now: number): number {
    const lagMs = Math.max(LAG_MS, 5 * this.statusInterval());
    let minAck = Infinity;
    let minBuffer = Infinity;
    let holder: ReceiverState | undefined;
    for (const r of this.receivers.values()) {
      if (r.state !== 'active' || now - r.lastHeard > lagMs) continue;
      if (r.ackSeq < minAck) {
        minAck = r.ackSeq;
        holder = r;
      }
      if (r.receiveBuffer < minBuffer) minBuffer = r.receiveBuffer;
    }
    this.windowHolder = holder;
    if (!holder) return BATCH;
    this.window = Math.max(MIN_WINDOW, Math.min(MAX_WINDOW, Math.floor((minBuffer * WINDOW_SHARE) / truesize(this.frameSize))));
    return this.window - (this.seq - minAck);
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
      const { group, symbol, proactive } = repair;
      const k = groupLength(this.layout, group);
      const rows = maxParityRows(this.layout.groupSize);
      const seq = this.seq + 1;
      let length: number;
      if (symbol < rows) {
        this.loadRepairGroup(group);
        frame.set(this.codec.parity(k, symbol), PARITY_HEADER_LENGTH);
        length = sealParity(frame, this.options.sessionId, seq, group, symbol, this.layout.blockSize, this.auth);
      } else {
        // Every parity row is spent (a receiver lost more than 256 - k symbols): send the data again.
        const block = group * this.layout.groupSize + ((symbol - rows) % k);
        this.loadRepairGroup(group);
        const offset = (block - group * this.layout.groupSize) * this.layout.blockSize;
        const bytes = blockLength(this.layout, block);
        frame.set(this.repairGroup.subarray(offset, offset + bytes), DATA_HEADER_LENGTH);
        length = sealData(frame, this.options.sessionId, seq, block, bytes, this.auth);
      }
      this.seq = seq;
      this.planner.sent(group, seq);
      if (proactive) this.proactiveSent++;
      else this.repairs++;
      return length;
    }
    if (this.nextBlock < this.availableBlocks()) {
      const block = this.nextBlock;
      const group = Math.floor(block / this.layout.groupSize);
      const bytes = blockLength(this.layout, block);
      const offset = this.loadDataBlock(block);
      frame.set(this.dataGroup.subarray(offset, offset + bytes), DATA_HEADER_LENGTH);
      const seq = this.seq + 1;
      const length = sealData(frame, this.options.sessionId, seq, block, bytes, this.auth);
      this.seq = seq;
      this.nextBlock = block + 1;
      this.dataPackets++;
      const lastOfGroup = block + 1 === Math.min(this.layout.blockCount, (group + 1) * this.layout.groupSize);
      if (lastOfGroup && this.proactive > 0) this.planner.proactive(group, this.proactive);
      return length;
    }
    if (this.nextBlock >= this.layout.blockCount && this.phase === Phase.SENDING) this.enterEnding();
    return 0;
  }

  private availableBlocks(): number {
    const { availableBytes } = this.options;
    if (!availableBytes) return this.layout.blockCount;
    const bytes = availableBytes();
    if (bytes >= this.layout.totalBytes) return this.layout.blockCount;
    return Math.floor(bytes / this.layout.blockSize);
  }

  /** Makes block `block` readable in the data group buffer; returns its offset there. */
  private loadDataBlock(block: number): number {
    const { groupSize, blockSize } = this.layout;
    const group = Math.floor(block / groupSize);
    if (group !== this.dataGroupIndex) {
      this.dataGroupIndex = group;
      this.dataGroupLoaded = 0;
    }
    const index = block - group * groupSize;
    if (index >= this.dataGroupLoaded) {
      // Read up to the group's end, or what exists of it (tee mode): one read for many packets.
      const end = Math.min(groupLength(this.layout, group), this.availableBlocks() - group * groupSize);
      const from = this.dataGroupLoaded * blockSize;
      const to = Math.min(end * blockSize, this.layout.totalBytes - group * groupSize * blockSize);
      this.readFully(this.dataGroup, from, to - from, group * groupSize * blockSize + from);
      this.dataGroupLoaded = end;
      if (this.repairGroupIndex === group) this.repairGroupIndex = -1;
    }
    return index * blockSize;
  }

  private loadRepairGroup(group: number): void {
    if (this.repairGroupIndex === group) return;
    const { groupSize, blockSize } = this.layout;
    const start = group * groupSize * blockSize;
    const bytes = Math.min(groupSize * blockSize, this.layout.totalBytes - start);
    this.readFully(this.repairGroup, 0, bytes, start);
    const k = groupLength(this.layout, group);
    this.codec.clear(k);
    for (let i = 0; i < k; i++) this.codec.block(i).set(this.repairGroup.subarray(i * blockSize, Math.min(bytes, (i + 1) * blockSize)));
    this.repairGroupIndex = group;
  }

  private readFully(into: Uint8Array, offset: number, length: number, position: number): void {
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, into, offset + done, length - done, position + done);
      if (n === 0) throw new TrowelError('EMCAST_FILE', `Cannot read ${this.options.file} at ${position + done}: it is shorter than ${this.layout.totalBytes} bytes`);
      done += n;
    }
  }

  // ---- phases, announcements, receivers ------------------------------------

  private onHousekeeping(): void {
    if (this.closed) return;
    const now = Date.now();
    try {
      if (this.phase === Phase.WAITING) this.checkStart(now);
      const announceEvery = this.phase === Phase.WAITING ? ANNOUNCE_WAITING_MS : ANNOUNCE_SENDING_MS;
      if (now - this.lastAnnounce >= announceEvery) this.announce(now);
      if (this.phase === Phase.ENDING && now - this.lastEnd >= END_REPEAT_MS) this.sendEnd(false, now);
      if (this.phase !== Phase.WAITING) this.checkReceivers(now);
      if (this.phase === Phase.SENDING && now - this.lastSlowCheck >= 1000) this.checkSlow(now);
      if (this.windowBlocked && !this.timer) this.kick();
      if (now - this.lastStats >= 1000) {
        this.lastStats = now;
        const stats = this.stats();
        this.options.onStats?.(stats);
        this.log.debug('mcast.stats', { ...stats });
      }
      if (this.phase === Phase.SENDING && !this.timer) this.kick(); // tee data may have grown
      if (this.phase === Phase.ENDING && !this.timer && !this.planner.isEmpty) this.kick();
      if (this.phase === Phase.ENDING && this.options.endTimeoutMs !== undefined && now - this.endingSince > this.options.endTimeoutMs) {
        for (const r of this.receivers.values()) if (r.state === 'active') this.drop(r, 'end timeout');
      }
      if (this.phase === Phase.ENDING && ![...this.receivers.values()].some((r) => r.state === 'active')) this.complete();
    } catch (e) {
      this.fail(e);
    }
  }

  private checkStart(now: number): void {
    const joined = this.receivers.size;
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
      availableBlocks: this.availableBlocks(),
      nextBlock: this.nextBlock,
      seq: this.seq,
      statusIntervalMs: this.statusInterval(),
      ackEvery: Math.max(8, Math.floor(this.window / 8)),
    }, this.auth);
    this.data?.send(frame.subarray(0, length));
  }

  /** Each receiver reports every 50 ms; beyond 100 receivers the interval grows so STATUS stays near 2000/s in total. */
  private statusInterval(): number {
    return Math.max(50, Math.round(this.receivers.size / 2));
  }

  private enterEnding(): void {
    this.phase = Phase.ENDING;
    this.endingSince = Date.now();
    this.log.info('mcast.data_sent', { seconds: (this.endingSince - this.dataStarted) / 1000, packets: this.packetsSent, repairs: this.repairs });
    this.sendEnd(false, this.endingSince);
  }

  private sendEnd(final: boolean, now: number): void {
    this.lastEnd = now;
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
    for (const r of this.receivers.values()) {
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
    for (const r of this.receivers.values()) {
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
    let active = 0;
    let done = 0;
    let dropped = 0;
    let loss = 0;
    for (const r of this.receivers.values()) {
      if (r.state === 'active') active++;
      else if (r.state === 'done') done++;
      else dropped++;
      loss = Math.max(loss, r.loss);
    }
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
      proactive: this.proactiveSent,
      badPackets: this.badPackets,
      receivers: [...this.receivers.values()].map((r): ReceiverSummary => ({ id: r.id, address: r.address, state: r.state, reason: r.reason, loss: r.loss })),
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
    if (this.housekeeping) clearInterval(this.housekeeping);
    for (const s of [this.data, this.control]) {
      try {
        s?.close();
      } catch {
        // not open yet or already closed
      }
    }
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

function socketError(action: string, where: string, e: unknown): TrowelError {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new TrowelError('EMCAST_SOCKET', `Cannot ${action} ${where}: ${code}`, {
    hint: 'check the group address, the port and that the interface address is local',
    cause: e,
  });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof TrowelError) return reason;
  return new TrowelError('EMCAST_ABORTED', 'Cannot finish the multicast session: aborted', { cause: reason });
}
