import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAC_LENGTH, PacketAuth } from './hmac.ts';

describe('PacketAuth', () => {
  const key = randomBytes(32);
  const auth = new PacketAuth(key);

  it('sign writes the first 16 bytes of HMAC-SHA256 over the rest of the packet', () => {
    for (const size of [MAC_LENGTH, 17, 100, 1472, 8972, 65000]) {
      const packet = randomBytes(size);
      auth.sign(packet);
      const want = createHmac('sha256', key).update(packet.subarray(0, size - MAC_LENGTH)).digest().subarray(0, MAC_LENGTH);
      expect(packet.subarray(size - MAC_LENGTH).equals(want)).toBe(true);
      expect(auth.verify(packet)).toBe(true);
    }
  });

  it('sign covers only the first `length` bytes of a larger buffer', () => {
    const buffer = randomBytes(200);
    auth.sign(buffer, 60);
    expect(auth.verify(buffer.subarray(0, 60))).toBe(true);
  });

  it('verify rejects a flipped bit anywhere, another key, and short packets', () => {
    const packet = randomBytes(300);
    auth.sign(packet);
    for (const at of [0, 150, 283, 284, 299]) {
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
