/**
 * Filesystem signatures through `blkid -p -o export` (low-level probing: it
 * reads the device itself, never blkid's cache, so a just-wiped disk is seen
 * as it is). Exit status 2 without a message means "nothing found".
 */
import { CommandError, run } from '../sys/run.ts';
import type { Filesystem } from './types.ts';

export interface Probe {
  filesystem: Filesystem | undefined;
  /** PTTYPE: the partition table on a whole disk (gpt, dos). */
  partitionTable: string | undefined;
  /** PART_ENTRY_TYPE and PART_ENTRY_NAME of a partition, read from the table itself. */
  partEntry?: { type: string | undefined; name: string | undefined };
}

/** A device path -> what is on it. discover.ts takes one of these. */
export type BlkidReader = (devicePath: string) => Promise<Probe>;

/** Parses `blkid -o export` output: KEY=value lines (pure). */
export function parseBlkidExport(text: string): Probe {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), unescape(line.slice(eq + 1)));
  }
  const type = fields.get('TYPE');
  const probe: Probe = {
    filesystem: type ? { type, label: fields.get('LABEL'), uuid: fields.get('UUID') } : undefined,
    partitionTable: fields.get('PTTYPE'),
  };
  if (fields.has('PART_ENTRY_SCHEME')) probe.partEntry = { type: fields.get('PART_ENTRY_TYPE'), name: fields.get('PART_ENTRY_NAME') };
  return probe;
}

/** Probes one device. */
export const blkidProbe: BlkidReader = async (devicePath) => {
  const { stdout, stderr, exitCode } = await run('blkid', ['-p', '-o', 'export', devicePath], { okCodes: [0, 2] });
  // Exit status 2 is also how blkid fails to open a device; only then does it print.
  if (exitCode === 2 && stderr.trim()) throw new CommandError(`blkid -p -o export ${devicePath}`, exitCode, null, stderr);
  return parseBlkidExport(stdout);
};

/** @private `-o export` escapes shell metacharacters with a backslash (blkid(8)). */
function unescape(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}
