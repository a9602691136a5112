/**
 * Reliable multicast of one file (the cached, compressed template stream) to
 * many receivers at once: the public API. The protocol is specified in
 * docs/multicast.md; the wire format is packet.ts, the erasure code fec.ts.
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../log/logger.ts';

export interface McastEndpoint {
  /** IPv4 multicast group, e.g. 239.255.84.1. */
  group: string;
  /** UDP port of the group (data + announcements). */
  port: number;
  /** Local IPv4 address of the interface to send on / join on. */
  interfaceAddress: string;
  /** u32, chosen by the sender; packets of other sessions are ignored. */
  sessionId: number;
  /** 32-byte per-session HMAC key. */
  key: Buffer;
}

export interface FecOptions {
  /** Data blocks per FEC group (k); k + parity blocks per group stay within 255 (GF(2^8)). */
  groupSize: number;
  /** Parity blocks sent with every group before anyone asks (0: repairs only on NAK). */
  proactiveParity: number;
}

export interface SenderStats {
  phase: 'waiting' | 'sending' | 'ending';
  /** Receivers joined and neither done nor dropped. */
  receivers: number;
  done: number;
  dropped: number;
  /** Payload bytes of first transmissions so far (the file's progress). */
  bytesSent: number;
  totalBytes: number;
  /** Parity packets sent for repairs (NAK-driven) and proactively. */
  repairs: number;
  proactive: number;
  /** Highest loss fraction any receiver reported over its last interval. */
  loss: number;
  /** The paced rate now (after congestion feedback). */
  rateBitsPerSecond: number;
  packetsSent: number;
  /** Packets the slowest receiver may lag behind (from the receivers' socket buffers). */
  window: number;
  /** Time the window held the sender back so far: receivers, not the rate, set the pace. */
  windowHeldSeconds: number;
}

export interface ReceiverSummary {
  id: number;
  address: string;
  state: 'active' | 'done' | 'dropped';
  /** Why a receiver was dropped (silent, behind). */
  reason?: string;
  loss: number;
}

export interface SenderReport {
  bytes: number;
  seconds: number;
  /** Seconds from the first data packet to the end of the session. */
  dataSeconds: number;
  blockSize: number;
  blockCount: number;
  packetsSent: number;
  dataPackets: number;
  repairs: number;
  /** Of the repairs, those unicast to the one receiver that needed them. */
  unicastRepairs: number;
  proactive: number;
  /** Packets rejected: bad MAC, unparsable, wrong session or kind. */
  badPackets: number;
  /** Receiver reports (JOIN, STATUS, DONE) refused because their number was not new: replays or duplicates. */
  replayedPackets: number;
  receivers: ReceiverSummary[];
  rateBitsPerSecond: number;
  /** Time the window held the sender back: how much the receivers, not the rate, set the pace. */
  windowHeldSeconds: number;
}

export interface SenderOptions extends McastEndpoint {
  /** What to send (the cached .zst); size from stat unless `totalBytes` is given. */
  file: string;
  /** Cap, e.g. 900e6. */
  rateBitsPerSecond: number;
  /** Wait for this many joins before data (default 1). */
  minReceivers?: number;
  /** Start anyway after this long with >= 1 receiver (default 60 s). */
  maxWaitMs?: number;
  /** A receiver silent or hopelessly behind this long is dropped (told to fall back); default 10 s. */
  dropAfterMs?: number;
  /** Default: the interface's MTU from /sys/class/net/<if>/mtu (jumbo 9000 honoured). */
  mtu?: number;
  /**
   * IP fragments of the MTU per block datagram (1 to 16). Default: as many
   * as fit in about 9 KB (6 at MTU 1500, 1 with jumbo frames); 1 sends
   * unfragmented MTU-sized packets (layout.ts, docs/multicast.md).
   */
  fragments?: number;
  /**
   * Blocks a DATA datagram carries at most (1 to 16); the sender packs fewer
   * while some receiver loses many datagrams. Default: 2 for ~9 KB blocks,
   * so datagrams of ~18 KB (packing.ts); 1 turns packing off.
   */
  pack?: number;
  fec?: FecOptions;
  /**
   * Hard bound on the end of the session: receivers still active this long
   * after the last block was sent are dropped. Default none: each receiver is
   * dropped anyway once it makes no progress for dropAfterMs.
   */
  endTimeoutMs?: number;
  /** Give up when nobody joined within this long (default: maxWaitMs + 60 s). */
  joinTimeoutMs?: number;
  log?: Logger;
  signal?: AbortSignal;
  /** ~1/s: receivers, bytes sent, repairs, loss, rate. */
  onStats?: (s: SenderStats) => void;
  /** Tee mode: the file is still growing; never send a block past this many bytes (size comes from `totalBytes`). */
  availableBytes?: () => number;
  totalBytes?: number;
  /** Multicast loopback, for receivers on the sender's own host (tests); default off. */
  loopback?: boolean;
  /** Multicast TTL (default 1: the local segment only). */
  ttl?: number;
}

export interface ReceiverReport {
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
  /** Blocks received more than once (repairs that were not needed here). */
  duplicates: number;
  /** Blocks rebuilt from parity. */
  repaired: number;
  /** Packets this receiver lost, counted from the sender's sequence numbers (a packet may carry several blocks). */
  lost: number;
  /** Blocks that did not come with the multicast data stream (lost, or sent before a late join): what repairs and fetches made up. */
  missedBlocks: number;
  loss: number;
  /** Bytes fetched with fetchRange (late join prefix or after a drop). */
  fetchedBytes: number;
  /** Packets rejected: bad MAC, unparsable, wrong session, not from the session's sender, or an ANNOUNCE older than one taken. */
  badPackets: number;
  /** The sender dropped this receiver (it finished through fetchRange). */
  dropped: boolean;
}

export interface ReceiverOptions extends McastEndpoint {
  /** Blocks are written here at their offsets. */
  spoolFile: string;
  /** Late joiners / dropped receivers fetch what multicast did not give them (HTTP Range). */
  fetchRange?: (start: number, endExclusive: number) => Promise<AsyncIterable<Uint8Array>>;
  /** Fail when no session is heard, or it goes silent, for this long (default 60 s). */
  timeoutMs?: number;
  /** u32 identifying this receiver to the sender (default random). */
  receiverId?: number;
  /**
   * The sender's IPv4 address, when known (the server's session offer):
   * packets from anywhere else are dropped. Default: the address of the
   * first ANNOUNCE heard.
   */
  senderAddress?: string;
  /** Socket receive buffer to ask for (default 16 MiB; Linux caps it at net.core.rmem_max). The sender's window follows what the socket got. */
  receiveBufferBytes?: number;
  /**
   * Shorten the kernel's wait for missing IP fragments and raise its memory
   * for them, in this network namespace, when allowed (root). Default true:
   * blocks arrive as fragments (src/sys/ip-reassembly.ts).
   */
  tuneReassembly?: boolean;
  /**
   * Once the sender is known, and while its datagrams come fast, read them
   * from the socket's descriptor into one reused buffer instead of dgram's
   * event per datagram (src/mcast/datagram-drain.ts). Only with a receive
   * buffer of 4 MiB or more as Linux reports it (net.core.rmem_max ≥ 2 MiB).
   * Default true; false keeps the event.
   */
  readDirectly?: boolean;
  log?: Logger;
  signal?: AbortSignal;
  onProgress?: (p: { bytes: number; total: number; bytesPerSecond: number }) => void;
}

export interface McastReceive {
  /** The stream's bytes in order, as soon as they are contiguous (feeds btrfs receive while the session runs). */
  readable: Readable;
  /** Rejects with a TrowelError on timeout / drop without fetchRange / abort. */
  done: Promise<ReceiverReport>;
}

export { sendFile } from './sender.ts';
export { receiveFile } from './receiver.ts';
export { parseKey } from './key.ts';
export { defaultBlockSize, interfaceMtu, MAX_FRAGMENTS } from './layout.ts';
export { MAX_PACK } from './packing.ts';
