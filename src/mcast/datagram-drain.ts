/**
 * Reads a UDP socket's datagrams straight from its file descriptor into one
 * reused buffer, instead of through dgram's 'message' event.
 *
 * Why: for each datagram dgram allocates a 64 KiB buffer, shrinks it to the
 * datagram, wraps it in a Buffer, builds a rinfo object and emits an event;
 * V8 then counts every one of those buffers as external memory and collects
 * them. A receiver of a 256 MiB session takes ~30 000 datagrams, and on a
 * machine whose cores the receivers share that per-datagram cost decides
 * the session's time (docs/multicast.md, "Reading datagrams").
 *
 * How: `read(2)` on a UDP socket returns one datagram. dgram's own reading
 * is stopped, and the descriptor (non-blocking: libuv opened it) is read
 * until EAGAIN every POLL_MS, or at once again while datagrams keep coming.
 * A socket that stays empty for IDLE_MS goes back to dgram's event, which
 * then only wakes the polling up (a sender waiting, a slow session, or
 * hundreds of receivers on one machine must not spend it on empty reads).
 * `read` gives no source address, so the socket must be connected to its
 * one peer first: Linux then delivers only that address and port's
 * datagrams (multicast ones too, when the socket is bound to the group
 * address).
 *
 * The descriptor is reached through dgram's internal state (Node has no
 * public accessor), so `startDrain` returns undefined where that isn't there
 * and the caller keeps the 'message' event.
 */
import type { Socket } from 'node:dgram';
import { readSync } from 'node:fs';

/** How long an idle socket waits before the next read: a few ms adds nothing a sender's window notices. */
const POLL_MS = 2;
/** Empty this long, the socket waits for dgram's event instead of being polled. */
const IDLE_MS = 20;
/** Datagrams read in one turn before other events (timers, the control socket) get theirs. */
const BATCH = 256;
/** The largest UDP payload over IPv4. */
const MAX_DATAGRAM = 65_507;

interface UdpHandle {
  fd: number;
  recvStart(): number;
  recvStop(): number;
}

/** dgram's handle, or undefined where this Node keeps it elsewhere. */
function handleOf(socket: Socket): UdpHandle | undefined {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const handle = state && (socket as unknown as Record<symbol, { handle?: Partial<UdpHandle> } | undefined>)[state]?.handle;
  if (!handle || typeof handle.fd !== 'number' || handle.fd < 0 || typeof handle.recvStop !== 'function' || typeof handle.recvStart !== 'function') return undefined;
  return handle as UdpHandle;
}

export interface Drain {
  /** Stops reading; call before closing the socket (its descriptor number may be reused at once). */
  stop(): void;
}

/**
 * Stops dgram's reading of a connected, bound socket and hands each datagram
 * to `onDatagram` as a view of a buffer that is reused for the next one (copy
 * what must outlive the call). While the socket is idle dgram's 'message'
 * event takes over: the socket's own listeners get that datagram as usual,
 * and it wakes the polling up again. A read error other than "nothing
 * there" stops the drain and goes to `onError`.
 */
export function startDrain(socket: Socket, onDatagram: (datagram: Buffer) => void, onError: (e: Error) => void): Drain | undefined {
  const handle = handleOf(socket);
  if (!handle || handle.recvStop() !== 0) return undefined;
  const fd = handle.fd;
  const buffer = Buffer.allocUnsafe(MAX_DATAGRAM);
  let stopped = false;
  /** dgram reads (idle): its next event wakes the polling. */
  let waiting = false;
  let lastDatagramAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;

  /** One datagram's length, 0 for none worth handing over, or -1 when none is queued. */
  const readOne = (): number => {
    // EAGAIN is the common ending of a turn: an Error without a stack costs a third less.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return readSync(fd, buffer, 0, MAX_DATAGRAM, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return -1;
      // An ICMP error for an earlier datagram (connected UDP reports them on the next read): nothing lost.
      if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EINTR') return 0;
      throw e;
    } finally {
      Error.stackTraceLimit = limit;
    }
  };

  const fail = (e: Error): void => {
    stop();
    onError(e);
  };

  const turn = (): void => {
    timer = undefined;
    immediate = undefined;
    let n = 0;
    try {
      for (; n < BATCH && !stopped; n++) {
        const length = readOne();
        if (length < 0) break;
        if (length > 0) onDatagram(buffer.subarray(0, length));
      }
    } catch (e) {
      return fail(e as Error);
    }
    if (stopped) return;
    const now = Date.now();
    if (n > 0) lastDatagramAt = now;
    if (n === BATCH) {
      immediate = setImmediate(turn);
    } else if (n === 0 && now - lastDatagramAt >= IDLE_MS) {
      const code = handle.recvStart();
      if (code !== 0) return fail(new Error(`Cannot read the socket: libuv error ${code}`));
      waiting = true;
    } else {
      timer = setTimeout(turn, POLL_MS);
    }
  };

  /** dgram delivered a datagram while idle (to the socket's listeners): poll again, from the next batch on. */
  const wake = (): void => {
    if (!waiting || stopped) return;
    waiting = false;
    handle.recvStop();
    lastDatagramAt = Date.now();
    timer = setTimeout(turn, POLL_MS);
  };

  function stop(): void {
    stopped = true;
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    socket.off('message', wake);
  }

  socket.on('message', wake);
  immediate = setImmediate(turn);
  return { stop };
}
