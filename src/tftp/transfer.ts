/**
 * One read transfer as a state machine with no sockets and no clock: the
 * server feeds it ACKs, client ERRORs and timer expiries, and sends the
 * packets each step returns. Blocks are read from the source as the window
 * advances, and only the unacknowledged window is held in memory.
 */
import { encodeData } from './codec.ts';
import type { ByteSource } from './source.ts';

export type TransferResult = 'ok' | 'error' | 'timeout';

export interface Step {
  /** Packets to send to the client, in order. */
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

  constructor(options: ReadTransferOptions) {
    this.options = options;
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  async start(): Promise<Step> {
    if (this.state !== 'new') return NOTHING;
    if (this.options.oack) {
      this.state = 'oack';
      return { send: [this.options.oack], bytes: 0, restartTimer: true };
    }
    this.state = 'data';
    return this.sendWindow(await this.fill());
  }

  async ack(block: number): Promise<Step> {
    if (this.state === 'oack') {
      // RFC 2347: ACK 0 accepts the OACK; anything else is stale or bogus.
      if (block !== 0) return NOTHING;
      this.state = 'data';
      this.retries = 0;
      return this.sendWindow(await this.fill());
    }
    if (this.state !== 'data') return NOTHING;
    const advance = (block - this.acked) & 0xffff;
    // A duplicate (advance 0) or older ACK never triggers a resend: answering
    // duplicates is what made lock-step TFTP's Sorcerer's Apprentice syndrome
    // (RFC 1123 4.2.3.1). Only the retransmission timer resends.
    if (advance === 0 || advance > this.window.length) return NOTHING;
    for (const packet of this.window.splice(0, advance)) this.delivered += packet.length - 4;
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
    const resend = this.window.slice();
    return this.sendWindow([...resend, ...(await this.fill())]);
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

  /** Reads fresh blocks until the window is full or the last block is in it. */
  private async fill(): Promise<Buffer[]> {
    const { source, blockSize, windowSize } = this.options;
    const fresh: Buffer[] = [];
    while (this.window.length < windowSize && this.finalBlock === undefined) {
      const block = this.acked + this.window.length + 1;
      const data = await source.read(blockSize);
      // A short block ends the transfer; a file that is a multiple of the
      // block size ends with an empty one (RFC 1350 section 6).
      if (data.length < blockSize) this.finalBlock = block;
      const packet = encodeData(block, data);
      this.window.push(packet);
      fresh.push(packet);
    }
    return fresh;
  }

  private sendWindow(packets: Buffer[]): Step {
    let bytes = 0;
    for (const p of packets) bytes += p.length - 4;
    return { send: packets, bytes, restartTimer: packets.length > 0 };
  }
}
