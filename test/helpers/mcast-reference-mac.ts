/**
 * The multicast packet MAC from its definition (src/mcast/mac.ts): node's own
 * HMAC over the length and the scalar NH kernel's output. PacketAuth runs the
 * SIMD kernel and pre-padded one-shot hashes, so agreeing with this checks
 * both against the definition rather than against themselves.
 */
import { createHmac } from 'node:crypto';
import { deriveMacKeys, MAC_LENGTH } from '../../src/mcast/mac.ts';
import { NhHash } from '../../src/mcast/nh.ts';

export function referenceMac(key: Buffer, body: Buffer): Buffer {
  const { nhKey, prfKey } = deriveMacKeys(key);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const nh = Buffer.from(new NhHash(nhKey, 'scalar').hash(body));
  return createHmac('sha256', prfKey).update(Buffer.concat([length, nh])).digest().subarray(0, MAC_LENGTH);
}
