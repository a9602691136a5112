/**
 * The socket side of one transfer: its sockets on a port of its own (the
 * server's TID, RFC 1350 section 4; see sockets.ts), the retransmission
 * timer, and the {@link ReadTransfer} it drives. Events are handled one at a
 * time in arrival order, because a step may wait for a file read.
 *
 * The lock-step hot path (ACK in, next DATA out) runs synchronously inside
 * the socket's message callback and allocates nothing of its own: an event
 * is a number, an ACK is read straight off its four bytes, the timer is
 * refreshed rather than re-armed, and byte counts reach the metrics in
 * batches. In windowsize 1 the server's turnaround per ACK is what bounds
 * throughput. Only a step that waits for the disk goes through a Promise.
 */
import type { Socket } from 'node:dgram';
import type { Logger } from '../log/logger.ts';
import { encodeError, ErrorCode, Opcode, parsePacket } from './codec.ts';
import type { ByteSource } from './source.ts';
import type { ReadTransfer, Step, TransferResult } from './transfer.ts';

export type SessionResult = TransferResult | 'aborted';

export interface SessionOptions {
  /** Connected to the client, so the kernel delivers only the client's packets here. */
  socket: Socket;
  /** Unconnected, on the same port: packets from other TIDs, answered with ERROR 5. */
  stray?: Socket;
  peer: { address: string; port: number };
  transfer: ReadTransfer;
  source: ByteSource;
  timeoutMs: number;
  log: Logger;
  /** Called with DATA payload bytes sent, retransmissions included, in batches (see REPORT_BYTES). */
  onBytes: (bytes: number) => void;
}

/**
 * An event is an ACK's block number (0-65535) or one of these. Numbers, not
 * closures, so queueing or running one allocates nothing.
 */
const START = -1;
const TIMEOUT = -2;
const CLIENT_ERROR = -3;

/**
 * Sent bytes are handed to `onBytes` once this many have gathered (a
 * Prometheus counter update per DATA costs more than the rest of the step),
 * and always when the last block has gone out, on a timeout and at the end.
 */
const REPORT_BYTES = 64 * 1024;

export class TransferSession {
  /** Settles once the sockets and the source are closed. */
  readonly finished: Promise<SessionResult>;
  private readonly options: SessionOptions;
  /** A step is waiting for the source; events that arrive meanwhile wait in `backlog`. */
  private waiting = false;
  private readonly backlog: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly onTimer = (): void => this.dispatch(TIMEOUT);
  private result: SessionResult | undefined;
  private resolveFinished!: (result: SessionResult) => void;
  private unreported = 0;
  /** Sends whose completion `finish` waits for (ERROR packets); DATA is fire-and-forget. */
  private inFlight = 0;
  private onDrained: (() => void) | undefined;

  constructor(options: SessionOptions) {
    this.options = options;
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    // A connected socket also reports the client's ICMP errors (ECONNREFUSED
    // once its port is closed): the retransmission timer deals with a client
    // that went away, as it would if the errors went unseen.
    const onError = (e: NodeJS.ErrnoException) => {
      const fields = { peer: this.peerText, error: e.message };
      if (e.code === 'ECONNREFUSED') options.log.debug('tftp.socket_error', fields);
      else options.log.warn('tftp.socket_error', fields);
    };
    options.socket.on('message', (msg: Buffer) => this.onMessage(msg));
    options.socket.on('error', onError);
    options.stray?.on('message', (msg, rinfo) => this.onStray(msg, rinfo.address, rinfo.port));
    options.stray?.on('error', onError);
  }

  /** True as soon as the outcome is known, before the sockets have finished closing. */
  get ended(): boolean {
    return this.result !== undefined;
  }

  start(): void {
    this.dispatch(START);
  }

  /** Server shutdown: stop without telling the client. */
  abort(): Promise<SessionResult> {
    this.finish('aborted');
    return this.finished;
  }

  private get peerText(): string {
    return `${this.options.peer.address}:${this.options.peer.port}`;
  }

  private onMessage(msg: Buffer): void {
    if (this.result !== undefined) return; // over; the socket is closing
    // An ACK (RFC 1350: opcode 4, block number; some clients pad it), read
    // without building a packet object: this is the lock-step hot path.
    if (msg.length >= 4 && msg[0] === 0 && msg[1] === Opcode.ACK) {
      this.dispatch((msg[2]! << 8) | msg[3]!);
      return;
    }
    const { log } = this.options;
    let packet;
    try {
      packet = parsePacket(msg);
    } catch (e) {
      log.warn('tftp.bad_packet', { peer: this.peerText, bytes: msg.length, error: (e as Error).message });
      return;
    }
    if (packet.opcode === Opcode.ERROR) {
      log.info('tftp.client_error', { peer: this.peerText, code: packet.code, message: packet.message });
      this.dispatch(CLIENT_ERROR);
    } else {
      log.warn('tftp.unexpected_packet', { peer: this.peerText, opcode: packet.opcode });
    }
  }

  /** RFC 1350 section 4: a packet from another TID gets ERROR 5 and leaves this transfer alone. */
  private onStray(msg: Buffer, address: string, port: number): void {
    if (this.result !== undefined) return;
    this.options.log.warn('tftp.unknown_tid', { peer: `${address}:${port}`, transferPeer: this.peerText, bytes: msg.length });
    this.sendError(this.options.stray!, encodeError(ErrorCode.UNKNOWN_TID, 'Unknown transfer ID'), port, address);
  }

  private step(event: number): Step | Promise<Step> {
    const { transfer } = this.options;
    if (event >= 0) return transfer.ack(event);
    if (event === START) return transfer.start();
    if (event === TIMEOUT) {
      const step = transfer.timeout();
      this.options.log.debug('tftp.retransmit', { peer: this.peerText, packets: step.send.length, done: step.done });
      this.report();
      return step;
    }
    return transfer.clientError();
  }

  /** Runs an event now, or after the step that is waiting for the source. */
  private dispatch(event: number): void {
    if (this.waiting) {
      this.backlog.push(event);
      return;
    }
    let next: number | undefined = event;
    while (next !== undefined && this.result === undefined) {
      let step: Step | Promise<Step>;
      try {
        step = this.step(next);
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
      // Nearly always empty: shift() on an empty array still costs a builtin call per ACK.
      next = this.backlog.length > 0 ? this.backlog.shift() : undefined;
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
    if (next !== undefined) this.dispatch(next);
  }

  /** A read failure mid-transfer (file truncated, I/O error): tell the client and stop. */
  private readFailed(e: unknown): void {
    if (this.result !== undefined) return;
    const { log, peer, socket } = this.options;
    log.error('tftp.read_failed', { peer: this.peerText, error: (e as Error).message });
    this.sendError(socket, encodeError(ErrorCode.NOT_DEFINED, 'Cannot read file'), peer.port, peer.address);
    this.finish('error');
  }

  private apply(step: Step): void {
    const { socket } = this.options;
    for (const packet of step.send) {
      try {
        // No callback: dgram would spend a tick on it, and a lost DATA is
        // what the retransmission timer is for. No address: connected.
        socket.send(packet);
      } catch (e) {
        this.options.log.debug('tftp.send_failed', { peer: this.peerText, error: (e as Error).message });
      }
    }
    if (step.bytes > 0) {
      this.unreported += step.bytes;
      if (this.unreported >= REPORT_BYTES || this.options.transfer.sentLast) this.report();
    }
    if (step.done) {
      this.finish(step.done);
    } else if (step.restartTimer) {
      if (this.timer) this.timer.refresh();
      else this.timer = setTimeout(this.onTimer, this.options.timeoutMs);
    }
  }

  private report(): void {
    if (this.unreported === 0) return;
    this.options.onBytes(this.unreported);
    this.unreported = 0;
  }

  /** For ERROR packets: never throws (a failed send is like a lost packet), and `finish` waits for it. */
  private sendError(socket: Socket, packet: Buffer, port: number, address: string): void {
    const sent = (e?: Error | null) => {
      if (e) this.options.log.debug('tftp.send_failed', { peer: `${address}:${port}`, error: e.message });
      this.inFlight -= 1;
      if (this.inFlight === 0) this.onDrained?.();
    };
    this.inFlight += 1;
    try {
      if (socket === this.options.socket) socket.send(packet, sent);
      else socket.send(packet, port, address, sent);
    } catch (e) {
      sent(e as Error);
    }
  }

  private finish(result: SessionResult): void {
    if (this.result !== undefined) return;
    this.result = result;
    clearTimeout(this.timer);
    this.report();
    const { socket, stray, source } = this.options;
    // A dgram send may resolve its address on the next tick; closing first
    // would drop the last packet, e.g. the ERROR telling the client why.
    // DATA sends are not tracked: setImmediate runs after that tick.
    const closed = new Promise<void>((resolve) => {
      this.onDrained = () => {
        this.onDrained = undefined;
        setImmediate(() => {
          try {
            stray?.close();
          } catch {
            /* closed already */
          }
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
