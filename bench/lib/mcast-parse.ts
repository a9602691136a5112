/**
 * What each multicast tool says about its own run, read from its output:
 * trowel's summary lines, udp-sender's progress line, uftp's transfer status
 * and uftpd's status file. The benchmark times runs itself; these numbers
 * (retransmissions, passes, block size) explain the times in the report.
 * Pure functions over text, so the unit test pins them on real output.
 */

/** `trowel mcast send-file: … ` (src/cli/mcast.ts), the last one in the output. */
export interface TrowelSenderSummary {
  bytes: number;
  dataSeconds: number;
  done: number;
  dropped: number;
  repairs: number;
  lossPercent: number;
  packets: number;
  blockSize: number;
}

export function parseTrowelSender(output: string): TrowelSenderSummary | undefined {
  const m = lastMatch(output, /trowel mcast send-file: (\d+) bytes in ([\d.]+) s, [\d.]+ MB\/s, receivers (\d+) done (\d+) dropped, repairs (\d+), loss ([\d.]+)%, packets (\d+), block (\d+)/g);
  if (!m) return undefined;
  return {
    bytes: Number(m[1]),
    dataSeconds: Number(m[2]),
    done: Number(m[3]),
    dropped: Number(m[4]),
    repairs: Number(m[5]),
    lossPercent: Number(m[6]),
    packets: Number(m[7]),
    blockSize: Number(m[8]),
  };
}

export interface TrowelReceiverSummary {
  bytes: number;
  seconds: number;
  repaired: number;
  lossPercent: number;
  duplicates: number;
  badPackets: number;
}

export function parseTrowelReceiver(output: string): TrowelReceiverSummary | undefined {
  const m = lastMatch(output, /trowel mcast receive-file: (\d+) bytes in ([\d.]+) s, [\d.]+ MB\/s, repairs (\d+), loss ([\d.]+)%, duplicates (\d+), bad packets (\d+)/g);
  if (!m) return undefined;
  return { bytes: Number(m[1]), seconds: Number(m[2]), repaired: Number(m[3]), lossPercent: Number(m[4]), duplicates: Number(m[5]), badPackets: Number(m[6]) };
}

/**
 * udp-sender rewrites one progress line with carriage returns
 * (`bytes= 67 108 864  re-xmits=0001023 (  2.2%) slice=0112 -   0`); the last
 * one holds the totals. Digit groups are separated by spaces.
 */
export function parseUdpSender(output: string): { bytes: number; retransmits: number; complete: boolean } | undefined {
  const m = lastMatch(output, /bytes=\s*([\d ]+?)\s+re-xmits=(\d+)/g);
  if (!m) return undefined;
  return { bytes: Number(m[1]!.replace(/ /g, '')), retransmits: Number(m[2]), complete: /Transfer complete\./.test(output) };
}

/** uftp's closing report: each client's status, its own elapsed time, and how many passes over the file it made. */
export interface UftpSenderSummary {
  /** "Total elapsed time": uftp's own clock, from the first data packet. */
  elapsedSeconds: number;
  completed: number;
  /** Clients with any other status (aborted, lost…). */
  failed: number;
  /** The highest "Starting pass N" seen (1 when it never repeated a pass). */
  passes: number;
}

export function parseUftpSender(output: string): UftpSenderSummary | undefined {
  const elapsed = lastMatch(output, /Total elapsed time: ([\d.]+) seconds/g);
  if (!elapsed) return undefined;
  const statuses = [...output.matchAll(/^Host: \S+\s+Status: (\S+)/gm)].map((m) => m[1]!);
  const pass = lastMatch(output, /Starting pass (\d+)/g);
  return {
    elapsedSeconds: Number(elapsed[1]),
    completed: statuses.filter((s) => s === 'Completed').length,
    failed: statuses.filter((s) => s !== 'Completed').length,
    passes: pass ? Number(pass[1]) : 1,
  };
}

/** One `RESULT;timestamp;server_id;session_id;filename;size;status` line of uftpd's status file (-F). */
export interface UftpdResult {
  filename: string;
  sizeKiB: number;
  status: string;
}

export function uftpResults(statusFile: string): UftpdResult[] {
  return statusFile
    .split('\n')
    .filter((l) => l.startsWith('RESULT;'))
    .map((l) => {
      const f = l.trim().split(';');
      return { filename: f[4] ?? '', sizeKiB: Number((f[5] ?? '').replace(/KB$/, '')), status: f[6] ?? '' };
    });
}

/** Whether a uftpd status means the file is in place (uftp 4.10 writes "copied"/"overwritten"; its manual says "copy"/"overwrite"). */
export function uftpReceived(status: string): boolean {
  return ['copy', 'copied', 'overwrite', 'overwritten'].includes(status);
}

function lastMatch(text: string, pattern: RegExp): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  for (const m of text.matchAll(pattern)) last = m as RegExpExecArray;
  return last;
}
