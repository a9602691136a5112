/**
 * The socket side of one transfer: its own UDP socket on an ephemeral port
 * (the server's TID, RFC 1350 section 4), the retransmission timer, and the
 * {@link ReadTransfer} it drives. Events are handled one at a time in arrival
 * order, because a step may wait for a file read.
 *
 * The lock-step hot path (ACK in, next DATA out) runs synchronously inside
 * the socket's message callback, with no promise and no timer created per
 * block: in windowsize 1 the server's turnaround per ACK is what bounds
 * throughput. Only a step that waits for the disk goes through a Promise.
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

type TransferEvent = () => Step | Promise<Step>;

export class TransferSession {
  /** Settles once the socket and the source are closed. */
  readonly finished: Promise<SessionResult>;
  private readonly options: SessionOptions;
  /** A step is waiting for the source; events that arrive meanwhile wait in `backlog`. */
  private waiting = false;
  private readonly backlog: TransferEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly onTimer = (): void => this.dispatch(this.onTimeout);
  private result: SessionResult | undefined;
  private resolveFinished!: (result: SessionResult) => void;
  /** Sends whose completion `finish` waits for (ERROR packets); DATA is fire-and-forget. */
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
    this.dispatch(() => this.options.transfer.start());
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
    if (this.result !== undefined) return; // over; the socket is closing
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
      this.dispatch(() => transfer.ack(block));
    } else if (packet.opcode === Opcode.ERROR) {
      log.info('tftp.client_error', { peer: this.peerText, code: packet.code, message: packet.message });
      this.dispatch(() => transfer.clientError());
    } else {
      log.warn('tftp.unexpected_packet', { peer: this.peerText, opcode: packet.opcode });
    }
  }

  /** Runs an event now, or after the step that is waiting for the source. */
  private dispatch(event: TransferEvent): void {
    if (this.waiting) {
      this.backlog.push(event);
      return;
    }
    let next: TransferEvent | undefined = event;
    while (next && this.result === undefined) {
      let step: Step | Promise<Step>;
      try {
        step = next();
      } catch (e) {
        this.readFailed(e);
        return;
      }
      if (step instanceof Promise) {
        this.waiting = true;
        step.then((s) => this.resume(s), (e: unknown) => this.resume(undefined, e));
        return;
      }
      this.apply(step);
      next = this.backlog.shift();
    }
  }

  private resume(step: Step | undefined, error?: unknown): void {
    this.waiting = false;
    if (step) {
      if (this.result === undefined) this.apply(step);
    } else {
      this.readFailed(error);
    }
    const next = this.backlog.shift();
    if (next) this.dispatch(next);
  }

  /** A read failure mid-transfer (file truncated, I/O error): tell the client and stop. */
  private readFailed(e: unknown): void {
    if (this.result !== undefined) return;
    this.options.log.error('tftp.read_failed', { peer: this.peerText, error: (e as Error).message });
    this.sendTo(encodeError(ErrorCode.NOT_DEFINED, 'Cannot read file'), this.options.peer.port, this.options.peer.address);
    this.finish('error');
  }

  private apply(step: Step): void {
    const { socket, peer } = this.options;
    for (const packet of step.send) {
      try {
        // No callback: dgram would spend a tick on it, and a lost DATA is
        // what the retransmission timer is for.
        socket.send(packet, peer.port, peer.address);
      } catch (e) {
        this.options.log.debug('tftp.send_failed', { peer: this.peerText, error: (e as Error).message });
      }
    }
    if (step.bytes > 0) this.options.onBytes(step.bytes);
    if (step.done) {
      this.finish(step.done);
    } else if (step.restartTimer) {
      if (this.timer) this.timer.refresh();
      else this.timer = setTimeout(this.onTimer, this.options.timeoutMs);
    }
  }

  private readonly onTimeout = (): Step => {
    const step = this.options.transfer.timeout();
    this.options.log.debug('tftp.retransmit', { peer: this.peerText, packets: step.send.length, done: step.done });
    return step;
  };

  /** For ERROR packets: never throws (a failed send is like a lost packet), and `finish` waits for it. */
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
    // A dgram send may resolve its address on the next tick; closing first
    // would drop the last packet, e.g. the ERROR telling the client why.
    // DATA sends are not tracked: setImmediate runs after that tick.
    const closed = new Promise<void>((resolve) => {
      this.onDrained = () => {
        this.onDrained = undefined;
        setImmediate(() => {
          try {
            socket.close(() => resolve());
          } catch {
            resolve();
          }
        });
      };
      if (this.inFlight === 0) this.onDrained();
    });
    void Promise.all([closed, source.close().catch(() => {})]).then(() => this.resolveFinished(result));
  }
}
