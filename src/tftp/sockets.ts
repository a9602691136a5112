/**
 * The server's UDP sockets: the listener on the well-known port, and a pair
 * per transfer on a fresh port (the server's TID, RFC 1350 section 4).
 *
 * A transfer's main socket is connected to its client. In lock-step every
 * DATA waits for the previous ACK, so what each datagram costs on the way
 * in and out bounds throughput, and a connected socket costs less on both:
 * a send names no address (dgram skips its lookup and address parsing, the
 * kernel reuses the cached route instead of a route lookup per packet), and
 * an arriving ACK finds its socket by early demultiplexing with the route
 * cached on it. The kernel also delivers only the client's packets to it.
 *
 * A packet from any other TID would then meet no socket, and the sender
 * would get an ICMP port unreachable; RFC 1350 asks for an ERROR packet that
 * leaves the transfer alone. So a second, unconnected socket is bound to the
 * same port (both with SO_REUSEADDR): Linux prefers the connected socket for
 * packets from the client and hands every other packet to this one.
 */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIPv4 } from 'node:net';

/**
 * dgram passes every address through `lookup`, and its default defers even
 * an IP literal to the next tick. Peers are always literals (from rinfo), so
 * they resolve at once; a name still goes to DNS.
 */
const literalLookup: SocketOptions['lookup'] = (hostname, options, callback) => {
  if (isIPv4(hostname)) callback(null, hostname, 4);
  else dnsLookup(hostname, options, callback);
};

export function bindSocket(port: number, address: string, reuseAddr = false): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4', lookup: literalLookup, reuseAddr });
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export interface TransferSockets {
  /** Connected to the client: only its packets arrive here, and sends take no address. */
  socket: Socket;
  /** Unconnected, on the same port: packets from every other TID. */
  stray: Socket;
}

/**
 * A fresh port for one transfer with both sockets on it. With SO_REUSEADDR
 * the kernel may pick a port another transfer's sockets already share; that
 * is harmless, since each connected socket receives only its own client's
 * packets, and a stranger's packet gets ERROR 5 from either stray socket.
 */
export async function openTransferSockets(bindAddress: string, peer: { address: string; port: number }): Promise<TransferSockets> {
  const socket = await bindSocket(0, bindAddress, true);
  let stray: Socket | undefined;
  try {
    stray = await bindSocket(socket.address().port, bindAddress, true);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(peer.port, peer.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return { socket, stray };
  } catch (e) {
    socket.close();
    stray?.close();
    throw e;
  }
}
