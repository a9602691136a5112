/**
 * The socket edges shared by sender and receiver: promise wrappers for
 * dgram's bind and connect, and the errors a user can meet there.
 */
import type { Socket } from 'node:dgram';
import { TrowelError } from '../errors.ts';

export function bindSocket(socket: Socket, port: number, address?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

export function connectSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

export function socketError(action: string, where: string, e: unknown): TrowelError {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new TrowelError('EMCAST_SOCKET', `Cannot ${action} ${where}: ${code}`, {
    hint: 'check the group address, the port and that the interface address is local',
    cause: e,
  });
}

/** The signal's own TrowelError, or one saying `what` was aborted. */
export function abortError(signal: AbortSignal, what: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof TrowelError) return reason;
  return new TrowelError('EMCAST_ABORTED', `Cannot finish ${what}: aborted`, { cause: reason });
}

/** Closes sockets that may not be open, or be closed already. */
export function closeQuietly(...sockets: (Socket | undefined)[]): void {
  for (const s of sockets) {
    try {
      s?.close();
    } catch {
      // not bound yet, or closed
    }
  }
}
