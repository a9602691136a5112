/** Whether every output exists and is newer than every input (by mtime): a build can be skipped. */
import { stat } from 'node:fs/promises';

export async function isUpToDate(outputs: string[], inputs: string[]): Promise<boolean> {
  const mtime = async (p: string) => (await stat(p).catch(() => undefined))?.mtimeMs;
  const outTimes = await Promise.all(outputs.map(mtime));
  const inTimes = await Promise.all(inputs.map(mtime));
  if (outTimes.some((t) => t === undefined)) return false;
  return Math.min(...(outTimes as number[])) > Math.max(...inTimes.map((t) => t ?? Infinity));
}
