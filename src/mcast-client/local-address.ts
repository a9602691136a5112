/**
 * The local IPv4 address this host reaches `host` from: the interface a
 * multicast receiver joins on, or a tee sends on. A connected UDP socket
 * asks the kernel's routing table without sending anything.
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { TrowelError } from '../errors.ts';

export async function localAddressFor(host: string): Promise<string> {
  const { address } = await lookup(host, { family: 4 });
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      // Port 9 (discard): nothing is sent by connect() on UDP.
      socket.connect(9, address, () => resolve());
    });
    return socket.address().address;
  } catch (e) {
    throw new TrowelError('ENOROUTE', `Cannot find the interface that reaches ${host}: ${(e as Error).message}`, { cause: e });
  } finally {
    socket.close();
  }
}
