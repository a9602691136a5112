/**
 * One V8 setting for a multicast receiver. Node's dgram hands every datagram
 * over in a fresh ArrayBuffer, and V8 counts those bytes as external
 * memory: at ~100 MB/s of 9-18 KB datagrams they reach V8's external-memory
 * limit long before the young generation fills, and each time V8 answers
 * with a full mark-compact of the whole heap instead of a cheap scavenge
 * (14 of them for a 256 MiB receive, ~0.2-0.3 s of CPU, about a fifth of a
 * receiver's). With external memory counted in the global heap limit
 * instead, the same receive takes 4-7 mark-compacts and ~0.2 s less CPU
 * (measured with --trace-gc in the multicast benchmark's rig).
 *
 * V8 reads the flag whenever it recomputes its limits, so setting it at
 * run time works; it is process-wide, and harmless to the rest of trowel.
 */
import { setFlagsFromString } from 'node:v8';

let applied = false;

export function tuneGcForDatagrams(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}
