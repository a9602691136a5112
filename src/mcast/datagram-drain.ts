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
 * How: `read(2)` on a UDP socket returns one datagram. Only while datagrams
 * come fast (POLL_ENTRY_COUNT within POLL_ENTRY_MS, by dgram's event) is
 * dgram's own reading stopped and the descriptor (non-blocking: libuv
 * opened it) read until EAGAIN every POLL_MS, or at once again while
 * datagrams keep coming. A turn that finds fewer than POLL_EXIT_BELOW goes
 * back to the event: a sender waiting, a slow session, or hundreds of
 * receivers sharing a machine's cores must not spend them on empty reads.
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
/** Polling starts when this many datagrams came by event within POLL_ENTRY_MS... */
const POLL_ENTRY_COUNT = 16;
const POLL_ENTRY_MS = 10;
/** ...and stops when a turn finds fewer than this. */
const POLL_EXIT_BELOW = 2;
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
 * Reads a connected, bound socket directly while its datagrams come fast,
 * handing each to `onDatagram` as a view of a buffer that is reused for the
 * next one (copy what must outlive the call). Otherwise dgram's 'message'
 * event goes on delivering to the socket's own listeners, which must handle
 * datagrams too. A read error other than "nothing there" stops the drain
 * and goes to `onError`.
 */
export function startDrain(socket: Socket, onDatagram: (datagram: Buffer) => void, onError: (e: Error) => void): Drain | undefined {
  const handle = handleOf(socket);
  if (!handle) return undefined;
  const fd = handle.fd;
  const buffer = Buffer.allocUnsafe(MAX_DATAGRAM);
  let stopped = false;
  let polling = false;
  /** Datagrams dgram delivered since `windowStart`, to tell a fast stream from a trickle. */
  let byEvent = 0;
  let windowStart = 0;
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
    if (n === BATCH) {
      immediate = setImmediate(turn);
    } else if (n < POLL_EXIT_BELOW) {
      const code = handle.recvStart();
      if (code !== 0) return fail(new Error(`Cannot read the socket: libuv error ${code}`));
      polling = false;
      byEvent = 0;
    } else {
      timer = setTimeout(turn, POLL_MS);
    }
  };

  /** dgram delivered a datagram (to the socket's listeners): fast enough, poll from the next one on. */
  const counted = (): void => {
    if (polling || stopped) return;
    const now = Date.now();
    if (now - windowStart > POLL_ENTRY_MS) {
      windowStart = now;
      byEvent = 0;
    }
    if (++byEvent < POLL_ENTRY_COUNT || handle.recvStop() !== 0) return;
    polling = true;
    timer = setTimeout(turn, POLL_MS);
  };

  function stop(): void {
    stopped = true;
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    socket.off('message', counted);
  }

  socket.on('message', counted);
  return { stop };
}
