/**
 * A stranger on the segment, for the integration tests: sends DATA packets
 * for a session it has no key for (signed with a random key) to the group,
 * `count` of them spread over `ms`, from the interface given. Prints SENT n.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { PacketAuth } from '../../src/mcast/mac.ts';
import { encodePacket, PacketType } from '../../src/mcast/packet.ts';

const { group, port, interfaceAddress, sessionId, count, ms } = JSON.parse(process.argv[2]!) as {
  group: string; port: number; interfaceAddress: string; sessionId: number; count: number; ms: number;
};
const auth = new PacketAuth(randomBytes(32));
const socket = createSocket('udp4');
await new Promise<void>((resolve) => socket.bind(0, interfaceAddress, resolve));
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
