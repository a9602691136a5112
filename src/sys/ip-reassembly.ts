/**
 * Linux's IPv4 reassembly limits, tuned for a multicast receiver whose
 * blocks arrive as several IP fragments (src/mcast/layout.ts). Linux keeps
 * a datagram missing a fragment for net.ipv4.ipfrag_time (30 s) and, once
 * such datagrams hold net.ipv4.ipfrag_high_thresh (4 MiB), drops every new
 * fragment until they expire: at 1% loss a receiver went deaf within a
 * second and stayed so (measured: 100% loss for the rest of the session).
 * A shorter wait (fragments of one datagram arrive microseconds apart) and
 * a higher ceiling keep it listening. Both settings belong to the network
 * namespace, and only root may change them: elsewhere they stay as they
 * are and the receiver leans on repairs and its HTTP fallback.
 */
import { readFile, writeFile } from 'node:fs/promises';

const SYSCTL = '/proc/sys/net/ipv4';
/** Seconds an incomplete datagram may wait for its other fragments. */
export const REASSEMBLY_SECONDS = 1;
/** Bytes incomplete datagrams may hold before new fragments are refused. */
export const REASSEMBLY_BYTES = 64 << 20;

export interface ReassemblyTuning {
  /** The settings now in force ([seconds, bytes]). */
  timeSeconds: number;
  highThreshBytes: number;
  /** What was changed, for the log; empty when nothing needed it. */
  changed: string[];
  /** Why a setting could not be changed (not root, no /proc), if it couldn't. */
  refused?: string;
}

/** Lowers ipfrag_time and raises ipfrag_high_thresh where they are worse than the receiver needs; never the other way. */
export async function tuneIpReassembly(dir = SYSCTL): Promise<ReassemblyTuning> {
  const result: ReassemblyTuning = { timeSeconds: NaN, highThreshBytes: NaN, changed: [] };
  try {
    result.timeSeconds = await readNumber(`${dir}/ipfrag_time`);
    result.highThreshBytes = await readNumber(`${dir}/ipfrag_high_thresh`);
    if (result.highThreshBytes < REASSEMBLY_BYTES) {
      await writeFile(`${dir}/ipfrag_high_thresh`, `${REASSEMBLY_BYTES}\n`);
      result.changed.push(`ipfrag_high_thresh ${result.highThreshBytes} -> ${REASSEMBLY_BYTES}`);
      result.highThreshBytes = REASSEMBLY_BYTES;
    }
    if (result.timeSeconds > REASSEMBLY_SECONDS) {
      await writeFile(`${dir}/ipfrag_time`, `${REASSEMBLY_SECONDS}\n`);
      result.changed.push(`ipfrag_time ${result.timeSeconds} -> ${REASSEMBLY_SECONDS}`);
      result.timeSeconds = REASSEMBLY_SECONDS;
    }
  } catch (e) {
    result.refused = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
  return result;
}

async function readNumber(path: string): Promise<number> {
  const text = (await readFile(path, 'utf8')).trim();
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`${path} holds ${JSON.stringify(text)}, not a number`);
  return value;
}
