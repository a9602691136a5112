/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, RFC 3720 §B.4) in
 * the raw form btrfs uses for send-stream commands: the caller's seed, no
 * pre- or post-inversion (btrfs computes `crc32c(0, command)`). The
 * conventional checksum is `~crc32c(~0, data)`. node:zlib's crc32 is the
 * other polynomial (IEEE), hence this table.
 */
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

export function crc32c(seed: number, data: Uint8Array): number {
  let crc = seed >>> 0;
  for (let i = 0; i < data.length; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}
