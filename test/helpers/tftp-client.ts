/**
 * A small TFTP client for in-process tests (server tests, fuzzing). It builds
 * its packets by hand, not with src/tftp/codec.ts, so a codec bug cannot
 * hide on both sides. Real clients (tftp-hpa, atftp, curl) are used in
 * test/integration.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** RRQ/WRQ bytes: opcode, then NUL-terminated filename, mode, option names and values. */
export function requestBytes(opcode: 1 | 2, filename: string, mode = 'octet', options: Record<string, string> = {}): Buffer {
  const fields = [filename, mode, ...Object.entries(options).flat()];
  return Buffer.concat([Buffer.from([0, opcode]), ...fields.map((f) => Buffer.from(`${f}\0`, 'utf8'))]);
}

export const ackBytes = (block: number): Buffer => Buffer.from([0, 4, (block >> 8) & 0xff, block & 0xff]);

export interface Datagram {
  msg: Buffer;
  rinfo: RemoteInfo;
}

/** A UDP socket with an awaitable inbox. */
export class UdpProbe {
  readonly socket: Socket;
  private readonly inbox: Datagram[] = [];
  private waiter: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      this.inbox.push({ msg, rinfo });
      this.waiter?.();
    });
  }

  static async open(address = '127.0.0.1'): Promise<UdpProbe> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return new UdpProbe(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(msg: Buffer, port: number, address = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(msg, port, address, (e) => (e ? reject(e) : resolve())));
  }

  /** The next datagram, or undefined after `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<Datagram | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.inbox.shift();
  }

  drain(): void {
    this.inbox.length = 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export class TftpClientError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(`TFTP error ${code}: ${message}`);
    this.code = code;
  }
}

export interface GetResult {
  data: Buffer;
  /** Options the server acknowledged, if it sent an OACK. */
  oack: Record<string, string> | undefined;
  /** The server's transfer port (its TID). */
  serverPort: number;
}

function parseOack(msg: Buffer): Record<string, string> {
  const fields = msg.subarray(2).toString('utf8').split('\0');
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

/**
 * Reads a file: RRQ, optional OACK/ACK 0, then DATA blocks, ACKing each window
 * (or each block in lock-step). Throws {@link TftpClientError} on an ERROR.
 */
export async function tftpGet(
  port: number,
  filename: string,
  options: { address?: string; mode?: string; request?: Record<string, string>; timeoutMs?: number } = {},
): Promise<GetResult> {
  const address = options.address ?? '127.0.0.1';
  const probe = await UdpProbe.open(address);
  try {
    await probe.send(requestBytes(1, filename, options.mode, options.request), port, address);
    let windowSize = 1;
    let acceptedBlockSize = 512;
    let oack: Record<string, string> | undefined;
    let serverPort: number | undefined;
    let expected = 1;
    let inWindow = 0;
    const parts: Buffer[] = [];
    for (;;) {
      const got = await probe.next(options.timeoutMs ?? 3000);
      if (!got) throw new Error(`Cannot read ${filename}: no answer while waiting for block ${expected}`);
      const { msg, rinfo } = got;
      serverPort ??= rinfo.port;
      if (rinfo.port !== serverPort) continue;
      const opcode = msg.readUInt16BE(0);
      if (opcode === 5) throw new TftpClientError(msg.readUInt16BE(2), msg.subarray(4).toString('utf8').replace(/\0.*$/s, ''));
      if (opcode === 6) {
        oack = parseOack(msg);
        acceptedBlockSize = Number(oack.blksize ?? 512);
        windowSize = Number(oack.windowsize ?? 1);
        await probe.send(ackBytes(0), serverPort, address);
        continue;
      }
      if (opcode !== 3) throw new Error(`Cannot read ${filename}: unexpected opcode ${opcode}`);
      const block = msg.readUInt16BE(2);
      if (block !== (expected & 0xffff)) {
        // Out of order or duplicate: ACK the last good block so the server restarts from there.
        await probe.send(ackBytes((expected - 1) & 0xffff), serverPort, address);
        inWindow = 0;
        continue;
      }
      const payload = msg.subarray(4);
      parts.push(payload);
      expected += 1;
      inWindow += 1;
      const last = payload.length < acceptedBlockSize;
      if (last || inWindow >= windowSize) {
        await probe.send(ackBytes(block), serverPort, address);
        inWindow = 0;
      }
      if (last) return { data: Buffer.concat(parts), oack, serverPort };
    }
  } finally {
    await probe.close();
  }
}
