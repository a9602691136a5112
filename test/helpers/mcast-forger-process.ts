/**
 * A stranger on the segment, for the integration tests: sends DATA packets
 * for a session it has no key for (signed with a random key) to the group,
 * `count` of them spread over `ms`, from the interface given. Prints SENT n.
 *
 * With `listenFor` (the sender's address) it only listens to the group for
 * a packet from there and prints PORT p, the port it came from. With
 * `spoofAddress` and `spoofPort` (that address, which the test has since
 * made local in this namespace too, and that port) it sends from them:
 * receivers that let the kernel filter by source (datagram-drain.ts) take
 * its packets in, and only the MAC can refuse them. Two runs, because once
 * the address is local here the kernel drops the sender's own packets as
 * martians.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { PacketAuth } from '../../src/mcast/mac.ts';
import { encodePacket, PacketType } from '../../src/mcast/packet.ts';

const { group, port, interfaceAddress, sessionId, count, ms, listenFor, spoofAddress, spoofPort } = JSON.parse(process.argv[2]!) as {
  group: string; port: number; interfaceAddress: string; sessionId: number; count: number; ms: number;
  listenFor?: string; spoofAddress?: string; spoofPort?: number;
};

/** The port the sender sends the group's packets from, heard on the group. */
async function senderPort(address: string): Promise<number> {
  const listener = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => listener.bind(port, group, resolve));
  listener.addMembership(group, interfaceAddress);
  const heard = await new Promise<number>((resolve) => listener.on('message', (_m, rinfo) => rinfo.address === address && resolve(rinfo.port)));
  listener.close();
  return heard;
}

if (listenFor) {
  process.stdout.write(`PORT ${await senderPort(listenFor)}\n`);
  process.exit(0);
}
const auth = new PacketAuth(randomBytes(32));
const socket = createSocket('udp4');
if (spoofAddress) {
  await new Promise<void>((resolve) => socket.bind(spoofPort, spoofAddress, resolve));
} else {
  await new Promise<void>((resolve) => socket.bind(0, interfaceAddress, resolve));
}
// Out of this namespace's own interface, whatever address the packets say they come from.
socket.setMulticastInterface(interfaceAddress);
let sent = 0;
const timer = setInterval(() => {
  // Block 0 with garbage: accepted, it would corrupt every receiver's first bytes.
  const packet = encodePacket({ type: PacketType.DATA, session: sessionId, seq: 1_000_000 + sent, block: sent % 4, payload: randomBytes(1436) }, auth);
  socket.send(packet, port, group);
  if (++sent >= count) {
    clearInterval(timer);
    socket.close();
    process.stdout.write(`SENT ${sent}\n`);
  }
}, Math.max(1, ms / count));
