/**
 * A replayer on the segment, for the integration tests: it captures the
 * session's genuine packets off the group (an ANNOUNCE and DATA, signed by
 * the sender) and sends them again from its own address, and it sends the
 * sender old reports (JOIN and STATUS numbered 1) of the receivers named.
 * Reports are unicast, which a bridge port never sees, so this process
 * holds the key to stand for a capture of them: the bytes it signs are a
 * receiver's first report, as one captured early would be. `count` rounds
 * spread over `ms`, once the first ANNOUNCE is heard; prints SENT n.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { PacketAuth } from '../../src/mcast/mac.ts';
import { decodePacket, encodePacket, PacketType } from '../../src/mcast/packet.ts';

const { group, port, interfaceAddress, sessionId, keyHex, receiverIds, count, ms } = JSON.parse(process.argv[2]!) as {
  group: string; port: number; interfaceAddress: string; sessionId: number; keyHex: string; receiverIds: number[]; count: number; ms: number;
};
const auth = new PacketAuth(Buffer.from(keyHex, 'hex'));
const listener = createSocket({ type: 'udp4', reuseAddr: true });
const socket = createSocket('udp4');
await new Promise<void>((resolve) => listener.bind(port, group, resolve));
listener.addMembership(group, interfaceAddress);
await new Promise<void>((resolve) => socket.bind(0, interfaceAddress, resolve));
socket.setMulticastInterface(interfaceAddress);

let announce: Buffer | undefined;
let data: Buffer | undefined;
let sender: { address: string; port: number } | undefined;
listener.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
  if (rinfo.address === interfaceAddress) return; // our own replays, looped back
  try {
    const p = decodePacket(msg, auth);
    if (p.type === PacketType.ANNOUNCE) {
      announce = Buffer.from(msg);
      sender ??= { address: rinfo.address, port: p.controlPort };
      start();
    } else if (p.type === PacketType.DATA) {
      data = Buffer.from(msg);
    }
  } catch {
    // not the session's
  }
});

let timer: NodeJS.Timeout | undefined;
function start(): void {
  if (timer) return;
  let sent = 0;
  timer = setInterval(() => {
    socket.send(announce!, port, group);
    if (data) socket.send(data, port, group);
    for (const receiver of receiverIds) {
      socket.send(encodePacket({ type: PacketType.JOIN, session: sessionId, receiver, report: 1 }, auth), sender!.port, sender!.address);
      socket.send(encodePacket({
        type: PacketType.STATUS, session: sessionId, receiver, report: 1, seq: 0, contiguous: 0, complete: 0, rateKiBps: 0, received: 0,
        firstBlock: 0, receiveBuffer: 1 << 20, needs: [{ group: 0, missing: 1, maskLow: 1, maskHigh: 0 }],
      }, auth), sender!.port, sender!.address);
    }
    if (++sent >= count) {
      clearInterval(timer);
      listener.close();
      socket.close();
      process.stdout.write(`SENT ${sent}\n`);
    }
  }, Math.max(1, ms / count));
}
