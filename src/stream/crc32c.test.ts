import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.ts';

describe('crc32c', () => {
  it('gives the RFC 3720 check value for "123456789" in its conventional form', () => {
    expect((~crc32c(0xffffffff, Buffer.from('123456789')) >>> 0).toString(16)).toBe('e3069283');
  });

  it('matches the checksum btrfs send wrote into a real command (seed 0, crc field zeroed)', () => {
    // The first command of a real `btrfs send` stream: subvol "@v1" (len 0x27, cmd 1, crc 0x5a8a7f66).
    const command = Buffer.from(
      '270000000100' + '00000000' + '0f000300407631' + '01001000930d29b0bb6bb848943413f97c300fcd' + '02000800' + '0700000000000000',
      'hex',
    );
    expect(crc32c(0, command).toString(16)).toBe('5a8a7f66');
  });
});
