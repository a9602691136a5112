/**
 * Failures of making a template stream that the template and multicast
 * routes answer alike: a btrfs send that failed (500; the server log has
 * its stderr) and a cache disk that is full (507, saying what to do).
 */
import { TrowelError } from '../../errors.ts';
import { CommandError } from '../../sys/run.ts';
import { HttpError } from '../http-error.ts';

/** The answer for `e` while making the stream of `what` ("name arch version"), or undefined: not one of these. */
export function streamFailure(e: unknown, what: string): HttpError | undefined {
  if (e instanceof CommandError) return new HttpError(500, 'stream_failed', `Cannot make the stream of ${what}: btrfs send failed (see the server log)`);
  if (e instanceof TrowelError && e.code === 'ECACHEFULL') return new HttpError(507, 'cache_full', e.hint ? `${e.message} (${e.hint})` : e.message, { cause: e });
  return undefined;
}
