import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveMacKeys, MAC_LENGTH, PacketAuth } from './mac.ts';
import { referenceMac } from '../../test/helpers/mcast-reference-mac.ts';

describe('PacketAuth', () => {
  const key = randomBytes(32);
  const auth = new PacketAuth(key);

  it('sign writes the first 16 bytes of HMAC-SHA256 over the length and NH of the rest of the packet', () => {
    for (const size of [MAC_LENGTH, 17, 100, 1472, 8972, 65000]) {
      const packet = randomBytes(size);
      auth.sign(packet);
      expect(packet.subarray(size - MAC_LENGTH).equals(referenceMac(key, packet.subarray(0, size - MAC_LENGTH)))).toBe(true);
      expect(auth.verify(packet)).toBe(true);
    }
  });

  it('derives different subkeys from different session keys, and the same from the same', () => {
    const a = deriveMacKeys(key);
    const b = deriveMacKeys(randomBytes(32));
    expect(a.prfKey.equals(deriveMacKeys(key).prfKey)).toBe(true);
    expect(a.nhKey.equals(b.nhKey) || a.prfKey.equals(b.prfKey)).toBe(false);
    expect(a.prfKey.equals(key)).toBe(false);
  });

  it('rejects the packet extended with zeros, which NH alone would not tell apart', () => {
    const packet = randomBytes(100 + MAC_LENGTH);
    auth.sign(packet);
    const body = packet.subarray(0, 100);
    const extended = Buffer.concat([body, Buffer.alloc(4), packet.subarray(100)]);
    expect(auth.verify(extended)).toBe(false);
    const resigned = Buffer.concat([body, Buffer.alloc(4), Buffer.alloc(MAC_LENGTH)]);
    auth.sign(resigned);
    expect(resigned.subarray(104).equals(packet.subarray(100))).toBe(false);
  });

  it('sign covers only the first `length` bytes of a larger buffer', () => {
    const buffer = randomBytes(200);
    auth.sign(buffer, 60);
    expect(auth.verify(buffer.subarray(0, 60))).toBe(true);
  });

  it('verify rejects a flipped bit anywhere, another key, and short packets', () => {
    const packet = randomBytes(300);
    auth.sign(packet);
    for (const at of [0, 1, 31, 32, 150, 283, 284, 299]) {
      const forged = Buffer.from(packet);
      forged[at] = forged[at]! ^ 1;
      expect(auth.verify(forged)).toBe(false);
    }
    expect(new PacketAuth(randomBytes(32)).verify(packet)).toBe(false);
    expect(auth.verify(Buffer.alloc(MAC_LENGTH - 1))).toBe(false);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new PacketAuth(randomBytes(16))).toThrow(RangeError);
  });
});
