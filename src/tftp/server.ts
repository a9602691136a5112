/**
 * The listening side: requests arrive on the well-known port; each accepted
 * read gets a {@link TransferSession} on a port of its own. Write requests are
 * refused (the server is read-only). Bad packets are logged and dropped.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { realpath } from 'node:fs/promises';
import { TrowelError } from '../errors.ts';
import { encodeError, encodeOack, ErrorCode, Opcode, parsePacket, type RequestPacket } from './codec.ts';
import type { TftpServer, TftpServerOptions } from './index.ts';
import { DEFAULT_BLOCK_SIZE, DEFAULT_MAX_BLOCK_SIZE, DEFAULT_MAX_WINDOW_SIZE, MAX_BLOCK_SIZE, MAX_WINDOW_SIZE, MIN_BLOCK_SIZE, negotiate } from './options.ts';
import { normalizeRequestPath, openInRoot, TftpRefusal } from './paths.ts';
import { TransferSession } from './session.ts';
import { bindSocket, openTransferSockets } from './sockets.ts';
import { BufferSource, NetasciiSource, type ByteSource } from './source.ts';
import { ReadTransfer } from './transfer.ts';

/** Timeouts in a row before a transfer is abandoned (~6 s at the default 1 s timeout). */
const MAX_RETRIES = 5;

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TrowelError('ETFTP', `Cannot start TFTP server: ${name} must be an integer from ${min} to ${max}, not ${value}`);
  }
  return value;
}

export async function startTftpServer(options: TftpServerOptions): Promise<TftpServer> {
  const bindAddress = options.bindAddress ?? '0.0.0.0';
  const maxBlockSize = checkRange('maxBlockSize', options.maxBlockSize ?? DEFAULT_MAX_BLOCK_SIZE, MIN_BLOCK_SIZE, MAX_BLOCK_SIZE);
  const maxWindowSize = checkRange('maxWindowSize', options.maxWindowSize ?? DEFAULT_MAX_WINDOW_SIZE, 1, MAX_WINDOW_SIZE);
  const log = options.log;
  let realRoot: string;
  try {
    realRoot = await realpath(options.root);
  } catch (e) {
    throw new TrowelError('ETFTP', `Cannot start TFTP server: root ${options.root} is not readable (${(e as NodeJS.ErrnoException).code})`, {
      hint: 'create the folder or set tftp.root in trowel.yaml',
      cause: e,
    });
  }
  let listener: Socket;
  try {
    listener = await bindSocket(options.port, bindAddress);
  } catch (e) {
    throw new TrowelError('ETFTP', `Cannot listen for TFTP on ${bindAddress}:${options.port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }

  const transfers = options.metrics.counter('trowel_tftp_transfers_total', 'TFTP read requests by outcome (ok, error, timeout, refused).');
  const bytes = options.metrics.counter('trowel_tftp_bytes_total', 'TFTP DATA payload bytes sent, retransmissions included.');
  const active = options.metrics.gauge('trowel_tftp_active_transfers', 'TFTP transfers in progress.');
  active.add(0);
  /** `request` is the RRQ's bytes: only an identical one counts as its retransmission. */
  type Entry = { request: Buffer; session?: TransferSession };
  /** Transfers by client address:port, so a retransmitted RRQ does not start a second one. */
  const sessions = new Map<string, Entry>();
  let closing = false;

  const refuse = (rinfo: RemoteInfo, code: number, message: string, filename?: string): void => {
    transfers.inc({ result: 'refused' });
    log.warn('tftp.refused', { peer: `${rinfo.address}:${rinfo.port}`, file: filename, code, reason: message });
    // The answer comes from a fresh port like any reply from the server's TID (RFC 1350 section 4).
    void bindSocket(0, bindAddress)
      .then((s) => {
        try {
          s.send(encodeError(code, message), rinfo.port, rinfo.address, () => s.close());
        } catch (e) {
          s.close();
          throw e;
        }
      })
      .catch((e: Error) => log.warn('tftp.socket_error', { peer: `${rinfo.address}:${rinfo.port}`, error: e.message }));
  };

  const openSource = async (request: RequestPacket, rinfo: RemoteInfo): Promise<ByteSource> => {
    const relative = normalizeRequestPath(request.filename);
    let dynamic: Buffer | undefined;
    if (options.dynamicFile) {
      try {
        dynamic = await options.dynamicFile(relative, { address: rinfo.address, port: rinfo.port });
      } catch (e) {
        log.error('tftp.dynamic_file_failed', { peer: `${rinfo.address}:${rinfo.port}`, file: relative, error: (e as Error).message });
        throw new TftpRefusal(ErrorCode.NOT_DEFINED, `Cannot render ${relative}`);
      }
    }
    const raw = dynamic ? new BufferSource(dynamic) : await openInRoot(realRoot, relative, Math.max(maxBlockSize, DEFAULT_BLOCK_SIZE, 4096));
    return request.mode === 'netascii' ? new NetasciiSource(raw) : raw;
  };

  const startTransfer = async (request: RequestPacket, rinfo: RemoteInfo, key: string, entry: Entry): Promise<void> => {
    const peerText = `${rinfo.address}:${rinfo.port}`;
    let source: ByteSource | undefined;
    try {
      // RFC 1350 modes: octet is sent as is, netascii converted; "mail" is obsolete.
      if (request.mode !== 'octet' && request.mode !== 'netascii') {
        throw new TftpRefusal(ErrorCode.ILLEGAL_OPERATION, `Cannot read in mode ${request.mode}: use octet or netascii`);
      }
      source = await openSource(request, rinfo);
      const negotiated = negotiate(request.options, { maxBlockSize, maxWindowSize, transferSize: source.size });
      const { socket, stray } = await openTransferSockets(bindAddress, { address: rinfo.address, port: rinfo.port });
      // Closing, or superseded by a newer request from the same client port while the file opened.
      if (closing || sessions.get(key) !== entry) {
        socket.close();
        stray.close();
        await source.close();
        return;
      }
      const transfer = new ReadTransfer({
        source,
        blockSize: negotiated.blockSize,
        windowSize: negotiated.windowSize,
        maxRetries: MAX_RETRIES,
        oack: negotiated.oack.length > 0 ? encodeOack(negotiated.oack) : undefined,
      });
      const session = new TransferSession({
        socket,
        stray,
        peer: { address: rinfo.address, port: rinfo.port },
        transfer,
        source,
        timeoutMs: negotiated.timeoutMs,
        log,
        onBytes: (n) => bytes.inc({}, n),
      });
      entry.session = session;
      active.add(1);
      const started = Date.now();
      log.info('tftp.transfer_start', { peer: peerText, file: request.filename, mode: request.mode, blksize: negotiated.blockSize, windowsize: negotiated.windowSize, size: source.size });
      session.start();
      const result = await session.finished;
      active.add(-1);
      if (sessions.get(key) === entry) sessions.delete(key);
      if (result === 'aborted') return;
      transfers.inc({ result });
      log.info('tftp.transfer_end', { peer: peerText, file: request.filename, result, bytes: transfer.delivered, ms: Date.now() - started });
    } catch (e) {
      if (sessions.get(key) === entry) sessions.delete(key);
      await source?.close().catch(() => {});
      if (e instanceof TftpRefusal) refuse(rinfo, e.tftpCode, e.message, request.filename);
      else {
        log.error('tftp.transfer_failed', { peer: peerText, file: request.filename, error: (e as Error).message });
        refuse(rinfo, ErrorCode.NOT_DEFINED, 'Cannot start transfer', request.filename);
      }
    }
  };

  const onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (closing) return;
    if (rinfo.port === 0) {
      // Port 0 cannot be a TID and cannot be answered (RFC 1350 section 4).
      log.warn('tftp.bad_packet', { peer: `${rinfo.address}:0`, bytes: msg.length, error: 'source port 0' });
      return;
    }
    let packet;
    try {
      packet = parsePacket(msg);
    } catch (e) {
      log.warn('tftp.bad_packet', { peer: `${rinfo.address}:${rinfo.port}`, bytes: msg.length, error: (e as Error).message });
      return;
    }
    if (packet.opcode === Opcode.WRQ) {
      refuse(rinfo, ErrorCode.ACCESS_VIOLATION, 'Cannot write: this server is read-only', packet.filename);
      return;
    }
    if (packet.opcode !== Opcode.RRQ) {
      log.warn('tftp.unexpected_packet', { peer: `${rinfo.address}:${rinfo.port}`, opcode: packet.opcode });
      return;
    }
    const key = `${rinfo.address}:${rinfo.port}`;
    const existing = sessions.get(key);
    // A client resends its RRQ, byte for byte, when our first reply is slow or
    // lost; the transfer already running will retransmit on its own timer. Any
    // other request from that port (another file, other options: a client
    // restarted on a reused port) replaces the transfer. A transfer that just
    // ended does not count: PXE ROMs ask for tsize, abort with an ERROR, then
    // ask again from the same port.
    if (existing && existing.request.equals(msg) && !existing.session?.ended) return;
    existing?.session?.abort();
    const entry: Entry = { request: msg };
    sessions.set(key, entry);
    void startTransfer(packet, rinfo, key, entry);
  };

  listener.on('message', onMessage);
  listener.on('error', (e) => log.error('tftp.socket_error', { error: e.message }));
  const port = listener.address().port;
  log.info('tftp.listening', { address: bindAddress, port, root: realRoot, maxBlockSize, maxWindowSize });

  return {
    port,
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      await Promise.all([...sessions.values()].map((s) => s.session?.abort()));
    },
  };
}
