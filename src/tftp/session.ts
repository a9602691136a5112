/**
 * The socket side of one transfer: its own UDP socket on an ephemeral port
 * (the server's TID, RFC 1350 section 4), the retransmission timer, and the
 * {@link ReadTransfer} it drives. Events are handled one at a time in arrival
 * order, because a step may wait for a file read.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import type { Logger } from '../log/logger.ts';
import { encodeError, ErrorCode, Opcode, parsePacket } from './codec.ts';
import type { ByteSource } from './source.ts';
import type { ReadTransfer, Step, TransferResult } from './transfer.ts';

export type SessionResult = TransferResult | 'aborted';

export interface SessionOptions {
  socket: Socket;
  peer: { address: string; port: number };
  transfer: ReadTransfer;
  source: ByteSource;
  timeoutMs: number;
  log: Logger;
  /** Called with the DATA payload bytes of every send, retransmissions included. */
  onBytes: (bytes: number) => void;
}

export class TransferSession {
  /** Settles once the socket and the source are closed. */
  readonly finished: Promise<SessionResult>;
  private readonly options: SessionOptions;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private result: SessionResult | undefined;
  private resolveFinished!: (result: SessionResult) => void;
  private inFlight = 0;
  private onDrained: (() => void) | undefined;

  constructor(options: SessionOptions) {
    this.options = options;
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    options.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    options.socket.on('error', (e) => options.log.warn('tftp.socket_error', { peer: this.peerText, error: e.message }));
  }

  /** True as soon as the outcome is known, before the socket has finished closing. */
  get ended(): boolean {
    return this.result !== undefined;
  }

  start(): void {
    this.enqueue(() => this.options.transfer.start());
  }

  /** Server shutdown: stop without telling the client. */
  abort(): Promise<SessionResult> {
    this.finish('aborted');
    return this.finished;
  }

  private get peerText(): string {
    return `${this.options.peer.address}:${this.options.peer.port}`;
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const { peer, log, transfer } = this.options;
    if (rinfo.address !== peer.address || rinfo.port !== peer.port) {
      // RFC 1350 section 4: a packet from another TID gets ERROR 5 and leaves this transfer alone.
      log.warn('tftp.unknown_tid', { peer: `${rinfo.address}:${rinfo.port}`, transferPeer: this.peerText });
      this.sendTo(encodeError(ErrorCode.UNKNOWN_TID, 'Unknown transfer ID'), rinfo.port, rinfo.address);
      return;
    }
    let packet;
    try {
      packet = parsePacket(msg);
    } catch (e) {
      log.warn('tftp.bad_packet', { peer: this.peerText, bytes: msg.length, error: (e as Error).message });
      return;
    }
    if (packet.opcode === Opcode.ACK) {
      const block = packet.block;
      this.enqueue(() => transfer.ack(block));
    } else if (packet.opcode === Opcode.ERROR) {
      log.info('tftp.client_error', { peer: this.peerText, code: packet.code, message: packet.message });
      this.enqueue(() => transfer.clientError());
    } else {
      log.warn('tftp.unexpected_packet', { peer: this.peerText, opcode: packet.opcode });
    }
  }

  private enqueue(event: () => Step | Promise<Step>): void {
    this.queue = this.queue
      .then(async () => {
        if (this.result === undefined) this.apply(await event());
      })
      .catch((e: unknown) => {
        // A read failure mid-transfer (file truncated, I/O error): tell the client and stop.
        if (this.result !== undefined) return;
        this.options.log.error('tftp.read_failed', { peer: this.peerText, error: (e as Error).message });
        this.send(encodeError(ErrorCode.NOT_DEFINED, 'Cannot read file'));
        this.finish('error');
      });
  }

  private apply(step: Step): void {
    for (const packet of step.send) this.send(packet);
    if (step.bytes > 0) this.options.onBytes(step.bytes);
    if (step.done) {
      this.finish(step.done);
    } else if (step.restartTimer) {
      if (this.timer) this.timer.refresh();
      else this.timer = setTimeout(() => this.enqueue(() => this.onTimeout()), this.options.timeoutMs);
    }
  }

  private onTimeout(): Step {
    const step = this.options.transfer.timeout();
    this.options.log.debug('tftp.retransmit', { peer: this.peerText, packets: step.send.length, done: step.done });
    return step;
  }

  private send(packet: Buffer): void {
    this.sendTo(packet, this.options.peer.port, this.options.peer.address);
  }

  /** Never throws: a failed send (even a synchronous one, e.g. port 0) is like a lost packet. */
  private sendTo(packet: Buffer, port: number, address: string): void {
    const sent = (e?: Error | null) => {
      if (e) this.options.log.debug('tftp.send_failed', { peer: `${address}:${port}`, error: e.message });
      this.inFlight -= 1;
      if (this.inFlight === 0) this.onDrained?.();
    };
    this.inFlight += 1;
    try {
      this.options.socket.send(packet, port, address, sent);
    } catch (e) {
      sent(e as Error);
    }
  }

  private finish(result: SessionResult): void {
    if (this.result !== undefined) return;
    this.result = result;
    clearTimeout(this.timer);
    const { socket, source } = this.options;
    // dgram sends are asynchronous (address lookup on the next tick); closing
    // first would drop the last packet, e.g. the ERROR telling the client why.
    const closed = new Promise<void>((resolve) => {
      this.onDrained = () => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve();
        }
      };
      if (this.inFlight === 0) this.onDrained();
    });
    void Promise.all([closed, source.close().catch(() => {})]).then(() => this.resolveFinished(result));
  }
}
