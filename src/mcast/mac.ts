/**
 * The per-packet MAC, keyed per session (docs/multicast.md, "Integrity"):
 *
 *   MAC = first 16 bytes of HMAC-SHA256(K_prf, u32be(n) || NH_K_nh(packet[0, n)))
 *
 * over the n bytes before the MAC. NH (nh.ts) is a universal hash: for any
 * two different packets of the same length, their NH outputs collide with
 * probability at most 2^-128 over the key. HMAC then works as a PRF over
 * NH's 32 bytes and the length, which it keeps secret, so forging a packet
 * means finding such a collision blind ("hash then PRF", as UMAC and
 * Poly1305 constructions do). The length is in the PRF input because NH
 * pads with zeros. Both subkeys come from the 32-byte session key by HKDF;
 * NH's 64 KiB key is AES-256-CTR output under an HKDF-derived key.
 *
 * Why not HMAC over the whole packet, as protocol version 2 did: SHA-256
 * over a 9 KB block was ~12 µs of a receiver's ~30 µs of CPU per datagram,
 * the largest item, and every receiver pays it for every block. NH in
 * WebAssembly plus HMAC over 36 bytes is about a third of that.
 *
 * HMAC is computed with two one-shot `crypto.hash` calls over pre-padded
 * key blocks instead of `createHmac` (an Hmac object per packet costs more
 * than hashing), with digests as latin1 ("binary") strings: asking `hash`
 * for a Buffer takes a slower path.
 */
import { createCipheriv, hash, hkdfSync } from 'node:crypto';
import { NH_KEY_BYTES, NH_MAX_INPUT, NH_OUTPUT_BYTES, NhHash } from './nh.ts';

export const MAC_LENGTH = 16;
export const KEY_LENGTH = 32;
/** SHA-256's block size: the key is padded to it (RFC 2104 "B"). */
const BLOCK = 64;
const DIGEST = 32;
/** What the PRF signs: the packet's length, then NH's output. */
const PRF_INPUT = 4 + NH_OUTPUT_BYTES;

/** The two subkeys of a session key; exported so tests can check the MAC against its definition. */
export function deriveMacKeys(key: Buffer): { nhKey: Buffer; prfKey: Buffer } {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32));
  const stream = createCipheriv('aes-256-ctr', derive('trowel mcast v3 nh'), Buffer.alloc(16));
  return { nhKey: stream.update(Buffer.alloc(NH_KEY_BYTES)), prfKey: derive('trowel mcast v3 prf') };
}

export class PacketAuth {
  private readonly nh: NhHash;
  /** ipad-keyed block followed by the PRF input. */
  private readonly inner = Buffer.alloc(BLOCK + PRF_INPUT);
  /** opad-keyed block followed by the inner digest. */
  private readonly outer = Buffer.alloc(BLOCK + DIGEST);

  constructor(key: Buffer) {
    if (key.length !== KEY_LENGTH) throw new RangeError(`Cannot use a ${key.length}-byte session key: it must be ${KEY_LENGTH} bytes`);
    const { nhKey, prfKey } = deriveMacKeys(key);
    this.nh = new NhHash(nhKey);
    this.inner.fill(0x36, 0, BLOCK);
    this.outer.fill(0x5c, 0, BLOCK);
    for (let i = 0; i < prfKey.length; i++) {
      this.inner[i] = this.inner[i]! ^ prfKey[i]!;
      this.outer[i] = this.outer[i]! ^ prfKey[i]!;
    }
  }

  /** The full 32-byte HMAC of packet[0, length)'s PRF input, one char per byte. */
  private digest(packet: Buffer, length: number): string {
    this.inner.writeUInt32BE(length, BLOCK);
    this.inner.set(this.nh.hash(packet, length), BLOCK + 4);
    this.outer.write(hash('sha256', this.inner, 'binary'), BLOCK, DIGEST, 'latin1');
    return hash('sha256', this.outer, 'binary');
  }

  /** Writes the MAC of packet[0, length - 16) into packet[length - 16, length). */
  sign(packet: Buffer, length = packet.length): void {
    if (length < MAC_LENGTH || length - MAC_LENGTH > NH_MAX_INPUT || length > packet.length) throw new RangeError(`Cannot sign a ${length}-byte packet`);
    packet.write(this.digest(packet, length - MAC_LENGTH), length - MAC_LENGTH, MAC_LENGTH, 'latin1');
  }

  /** True when the last 16 bytes are the MAC of the rest (constant time in the MAC bytes). */
  verify(packet: Buffer, length = packet.length): boolean {
    if (length < MAC_LENGTH || length - MAC_LENGTH > NH_MAX_INPUT || length > packet.length) return false;
    const body = length - MAC_LENGTH;
    const mac = this.digest(packet, body);
    let diff = 0;
    for (let i = 0; i < MAC_LENGTH; i++) diff |= mac.charCodeAt(i) ^ packet[body + i]!;
    return diff === 0;
  }
}
