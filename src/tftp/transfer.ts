/**
 * One read transfer as a state machine with no sockets and no clock: the
 * server feeds it ACKs, client ERRORs and timer expiries, and sends the
 * packets each step returns. Blocks are read from the source as the window
 * advances, and only the unacknowledged window is held in memory.
 *
 * A step is returned synchronously whenever the source has the bytes in
 * memory (nearly always: sources read ahead), and as a Promise only when a
 * block must wait for the disk. The caller must not feed the next event
 * before such a Promise settles.
 */
import { encodeDataInto } from './codec.ts';
import type { ByteSource } from './source.ts';

export type TransferResult = 'ok' | 'error' | 'timeout';

export interface Step {
  /**
   * Packets to send to the client, in order. Their buffers belong to the
   * transfer and are rewritten some blocks after they are acknowledged: send
   * or copy them before feeding the next event.
   */
  send: Buffer[];
  /** DATA payload bytes in `send` (retransmissions included). */
  bytes: number;
  /** (Re)start the retransmission timer: something went out that awaits an ACK. */
  restartTimer: boolean;
  /** Set once the transfer is over; send nothing more after that. */
  done?: TransferResult;
}

export interface ReadTransferOptions {
  source: ByteSource;
  blockSize: number;
  windowSize: number;
  /** Consecutive timeouts without progress before giving up. */
  maxRetries: number;
  /** An encoded OACK to send first (RFC 2347); the client answers it with ACK 0. */
  oack?: Buffer;
}

const NOTHING: Step = { send: [], bytes: 0, restartTimer: false };

/**
 * DATA packet buffers, reused instead of allocated per block: at 1468-byte
 * blocks Node's shared Buffer pool would make a new 8 KiB ArrayBuffer every
 * five packets, and collecting them is a measurable share of a lock-step
 * block's cost. At most 3 x windowSize buffers per transfer.
 *
 * A released buffer is handed out again only after 2 x windowSize newer
 * ones were released. dgram keeps the buffer of a send the kernel cannot
 * take at once (EAGAIN) and sends it later, in order with the socket's other
 * sends. Of those newer releases at most windowSize - 1 came with the same
 * ACK and at most windowSize - 1 were sent before this buffer was released;
 * so the client has acknowledged a block first sent after this buffer's last
 * send, and no queued send can still be reading it.
 */
class PacketPool {
  private readonly free: Buffer[] = [];
  private readonly packetSize: number;
  private readonly reserve: number;

  constructor(packetSize: number, windowSize: number) {
    this.packetSize = packetSize;
    this.reserve = 2 * windowSize;
  }

  take(): Buffer {
    return this.free.length > this.reserve ? this.free.shift()! : Buffer.allocUnsafeSlow(this.packetSize);
  }

  /** Only full packets come back: a short one is the transfer's last. */
  release(packet: Buffer): void {
    if (packet.length === this.packetSize) this.free.push(packet);
  }
}

export class ReadTransfer {
  /** Payload bytes the client has acknowledged. */
  delivered = 0;
  private readonly options: ReadTransferOptions;
  private state: 'new' | 'oack' | 'data' | 'done' = 'new';
  /**
   * Absolute number of the last acknowledged block. Block numbers on the wire
   * are this modulo 65536: after 65535 comes 0, as tftp-hpa, curl and atftp
   * expect for files over 32 MiB at 512-byte blocks.
   */
  private acked = 0;
  /** DATA packets for blocks acked+1, acked+2, …, each sent at least once. */
  private window: Buffer[] = [];
  /** Absolute number of the last block, once a short (possibly empty) read found the end. */
  private finalBlock: number | undefined;
  private retries = 0;
  private readonly packets: PacketPool;

  constructor(options: ReadTransferOptions) {
    this.options = options;
    this.packets = new PacketPool(4 + options.blockSize, options.windowSize);
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  /** The last block has been read, so it has gone out at least once. */
  get sentLast(): boolean {
    return this.finalBlock !== undefined;
  }

  start(): Step | Promise<Step> {
    if (this.state !== 'new') return NOTHING;
    if (this.options.oack) {
      this.state = 'oack';
      return { send: [this.options.oack], bytes: 0, restartTimer: true };
    }
    this.state = 'data';
    return this.fill([]);
  }

  ack(block: number): Step | Promise<Step> {
    if (this.state === 'oack') {
      // RFC 2347: ACK 0 accepts the OACK; anything else is stale or bogus.
      if (block !== 0) return NOTHING;
      this.state = 'data';
      this.retries = 0;
      return this.fill([]);
    }
    if (this.state !== 'data') return NOTHING;
    const advance = (block - this.acked) & 0xffff;
    // A duplicate (advance 0) or older ACK never triggers a resend: answering
    // duplicates is what made lock-step TFTP's Sorcerer's Apprentice syndrome
    // (RFC 1123 4.2.3.1). Only the retransmission timer resends.
    if (advance === 0 || advance > this.window.length) return NOTHING;
    for (let i = 0; i < advance; i++) {
      const packet = this.window[i]!;
      this.delivered += packet.length - 4;
      this.packets.release(packet);
    }
    if (advance === 1) this.window.shift();
    else this.window.splice(0, advance);
    this.acked += advance;
    this.retries = 0;
    if (this.finalBlock !== undefined && this.acked >= this.finalBlock) {
      this.state = 'done';
      return { ...NOTHING, done: 'ok' };
    }
    // RFC 7440 section 4: an ACK for a block before the end of the window means
    // the client lost the next one, so a new window starts right after it; the
    // still-unacknowledged blocks go out again, followed by fresh ones. (A
    // client that negotiates a window yet ACKs every block gets a window per
    // ACK: wasteful but bounded, since its duplicate ACKs are ignored.)
    return this.fill(this.window.slice());
  }

  /** The retransmission timer expired: resend what awaits an ACK, or give up. */
  timeout(): Step {
    if (this.state !== 'oack' && this.state !== 'data') return NOTHING;
    this.retries += 1;
    if (this.retries > this.options.maxRetries) {
      this.state = 'done';
      return { ...NOTHING, done: 'timeout' };
    }
    if (this.state === 'oack') return { send: [this.options.oack!], bytes: 0, restartTimer: true };
    return this.sendWindow(this.window.slice());
  }

  /** RFC 1350: an ERROR packet from the client ends the transfer; nothing is sent back. */
  clientError(): Step {
    if (this.state === 'done') return NOTHING;
    this.state = 'done';
    return { ...NOTHING, done: 'error' };
  }

  /**
   * Reads fresh blocks onto `send` until the window is full or the last block
   * is in it, and returns the step that sends them all; a Promise of it only
   * if the source had to wait.
   */
  private fill(send: Buffer[]): Step | Promise<Step> {
    const { source, blockSize, windowSize } = this.options;
    while (this.window.length < windowSize && this.finalBlock === undefined) {
      const data = source.read(blockSize);
      if (data instanceof Promise) {
        return data.then((d) => {
          this.push(d, send);
          return this.fill(send);
        });
      }
      this.push(data, send);
    }
    return this.sendWindow(send);
  }

  private push(data: Buffer, send: Buffer[]): void {
    const block = this.acked + this.window.length + 1;
    // A short block ends the transfer; a file that is a multiple of the
    // block size ends with an empty one (RFC 1350 section 6).
    if (data.length < this.options.blockSize) this.finalBlock = block;
    const packet = encodeDataInto(this.packets.take(), block, data);
    this.window.push(packet);
    send.push(packet);
  }

  private sendWindow(packets: Buffer[]): Step {
    let bytes = 0;
    for (const p of packets) bytes += p.length - 4;
    return { send: packets, bytes, restartTimer: packets.length > 0 };
  }
}
