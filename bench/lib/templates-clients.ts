/**
 * The load of the serving benchmark: N concurrent clients, each a `curl`
 * process (not Node: the clients must not share the server's runtime or
 * its costs), each downloading the stream URL a few times in a row on one
 * connection to /dev/null. The same script runs against trowel and nginx;
 * the time is taken inside the namespace, from just before the first curl
 * starts to just after the last one exits. Every download's status and
 * length are checked.
 */
import type { Netns } from '../../src/lab/netns.ts';

/** Downloads per client so that one run moves at least `targetBytes` (1 at the most clients). */
export function fetchesPerClient(targetBytes: number, clients: number, streamBytes: number): number {
  if (!(clients >= 1) || !(streamBytes > 0)) throw new RangeError(`Cannot plan ${clients} clients of a ${streamBytes}-byte stream`);
  return Math.max(1, Math.ceil(targetBytes / (clients * streamBytes)));
}

/**
 * The shell script: $1 URL, $2 clients, $3 downloads per client. curl's
 * `-w` prints one line per download: `T <http code> <bytes>`; the script
 * prints `S <ns>` and `E <ns>` (CLOCK_REALTIME, date +%s%N) around them.
 */
export const LOAD_SCRIPT = [
  'url=$1; n=$2; k=$3',
  'set --',
  'i=0; while [ "$i" -lt "$k" ]; do set -- "$@" -o /dev/null "$url"; i=$((i + 1)); done',
  'echo "S $(date +%s%N)"',
  'i=0; while [ "$i" -lt "$n" ]; do curl -s -w "T %{http_code} %{size_download}\\n" "$@" & i=$((i + 1)); done',
  'wait',
  'echo "E $(date +%s%N)"',
].join('\n');

export interface LoadOutcome {
  /** Downloads that returned 200 with the whole stream. */
  downloads: number;
  bytes: number;
  seconds: number;
  /** Downloads that failed (status, length), one description each. */
  problems: string[];
}

/** Reads the script's output; `expected` downloads of `streamBytes` each. */
export function parseLoadOutput(output: string, streamBytes: number, expected: number): LoadOutcome {
  let start: bigint | undefined;
  let end: bigint | undefined;
  let downloads = 0;
  let bytes = 0;
  let seen = 0;
  const problems: string[] = [];
  for (const line of output.split('\n')) {
    const [tag, a, b] = line.trim().split(/\s+/);
    if (tag === 'S' && a) start = BigInt(a);
    else if (tag === 'E' && a) end = BigInt(a);
    else if (tag === 'T' && a && b) {
      seen += 1;
      const size = Number(b);
      bytes += size;
      if (a === '200' && size === streamBytes) downloads += 1;
      else problems.push(`status ${a}, ${size} of ${streamBytes} bytes`);
    }
  }
  if (start === undefined || end === undefined) throw new Error('Cannot time the clients: the load script printed no start or end mark');
  if (seen < expected) problems.push(`${expected - seen} download(s) printed nothing (curl failed to connect?)`);
  return { downloads, bytes, seconds: Number(end - start) / 1e9, problems };
}

/** Runs `clients` curls of `url` inside `ns`, `fetches` downloads each. */
export async function runLoad(ns: Netns, url: string, clients: number, fetches: number, streamBytes: number): Promise<LoadOutcome> {
  const { stdout } = await ns.exec('sh', ['-c', LOAD_SCRIPT, 'load', url, String(clients), String(fetches)], { timeoutMs: 600_000, okCodes: [0] });
  return parseLoadOutput(stdout, streamBytes, clients * fetches);
}
