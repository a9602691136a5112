/**
 * Packing: a DATA datagram carries a run of consecutive whole blocks, not
 * always one (docs/multicast.md, "Datagrams"). Per-datagram CPU (dgram's
 * ~5 µs, a fresh buffer, the MAC's fixed part) limits every receiver on a
 * small machine, so while loss is low the sender packs two ~9 KB blocks into
 * one ~18 KB datagram (12 fragments at MTU 1500, 2 jumbo frames at 9000):
 * six receivers on the benchmark's two cores finished 256 MiB in 4.9 s
 * instead of 6.0 s. But one lost fragment loses the whole datagram, so
 * packing multiplies a lossy receiver's block loss: at 5% frame loss a
 * 12-fragment datagram is lost 46% of the time against 26% for 6, and its
 * repairs cost more than packing saved. The sender therefore packs less as
 * the worst receiver's loss rises and more as it falls, judged per frame
 * (its datagram loss spread over the fragments a datagram had), with a gap
 * between the two thresholds so it doesn't flap: 1% frame loss keeps two
 * blocks per datagram (six receivers at 1%: 4.9 s against 6.3 s unpacked),
 * 5% goes to one, at MTU 1500 and 9000 alike. Repairs always go one block
 * per datagram.
 *
 * The block count is not on the wire: a DATA payload of n bytes starting at
 * block b covers exactly the blocks it fills ({@link runLength}).
 */
import { blockLength, type Layout } from './layout.ts';
import { BLOCK_PACKET_OVERHEAD } from './packet.ts';

/** Blocks per datagram at most, whatever the options. */
export const MAX_PACK = 16;
/** Packed datagrams stay within about this many bytes by default. */
export const TARGET_PACKED_DATAGRAM = 18000;
/** A UDP payload's hard limit (65535 - IP and UDP headers). */
const MAX_UDP_PAYLOAD = 65507;
/** Above this frame loss on some receiver, pack one block fewer. */
export const PACK_DOWN_FRAME_LOSS = 0.025;
/** Below this frame loss on every receiver, pack one block more. */
export const PACK_UP_FRAME_LOSS = 0.015;

/**
 * Blocks per datagram at most by default for blocks sent as `blockDatagram`-byte
 * IP datagrams: 2 for the usual ~9 KB ones, 1 when packing would pass the
 * target or UDP's limit.
 */
export function defaultMaxPack(blockDatagram: number, blockSize: number): number {
  const byTarget = Math.floor(TARGET_PACKED_DATAGRAM / blockDatagram);
  const byUdp = Math.floor((MAX_UDP_PAYLOAD - BLOCK_PACKET_OVERHEAD) / blockSize);
  return Math.max(1, Math.min(MAX_PACK, byTarget, byUdp));
}

/**
 * How many blocks a DATA payload of `payloadBytes` starting at `block`
 * carries: the count when it covers whole consecutive blocks exactly (the
 * last block of the stream may be short), 0 when it doesn't (a bad packet).
 */
export function runLength(layout: Layout, block: number, payloadBytes: number): number {
  if (block >= layout.blockCount || payloadBytes <= 0) return 0;
  const count = Math.ceil(payloadBytes / layout.blockSize);
  if (count > MAX_PACK || block + count > layout.blockCount) return 0;
  return payloadBytes === (count - 1) * layout.blockSize + blockLength(layout, block + count - 1) ? count : 0;
}

/** The frame loss that loses `datagramLoss` of datagrams made of `frames` frames each. */
export function frameLoss(datagramLoss: number, frames: number): number {
  return 1 - (1 - Math.min(1, Math.max(0, datagramLoss))) ** (1 / frames);
}

/**
 * The next packing from the worst active receiver's datagram loss (0 to 1),
 * measured while datagrams carried `current` blocks of `fragmentsPerBlock`
 * frames each.
 */
export function adaptPack(current: number, max: number, worstLoss: number, fragmentsPerBlock: number): number {
  const loss = frameLoss(worstLoss, current * fragmentsPerBlock);
  if (loss > PACK_DOWN_FRAME_LOSS && current > 1) return current - 1;
  if (loss < PACK_UP_FRAME_LOSS && current < max) return current + 1;
  return Math.min(current, max);
}
