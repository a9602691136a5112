/**
 * The `Range` request header for one representation of known size
 * (RFC 9110 §14.1.2, §14.2). Only a single byte range is honoured: a
 * multi-range request is answered with the whole file, which the RFC
 * allows (a server MAY ignore Range), and boot firmware never sends one.
 */
export type RangeResult =
  /** No usable Range header (absent, not "bytes", malformed, or several ranges): send the whole file. */
  | { kind: 'none' }
  /** Well-formed but no byte of it exists in the file: 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' }
  /** Inclusive byte positions to send with 206. */
  | { kind: 'range'; start: number; end: number };

const RANGE = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (header === null || header === undefined) return { kind: 'none' };
  const m = RANGE.exec(header.trim());
  if (!m) return { kind: 'none' };
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return { kind: 'none' };
  if (first === '') {
    // suffix-range "-N": the last N bytes; "-0" selects nothing (§14.1.2).
    const n = toSafeInt(last);
    if (n === undefined) return { kind: 'none' };
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = toSafeInt(first);
  if (start === undefined) return { kind: 'none' };
  const end = last === '' ? Number.MAX_SAFE_INTEGER : toSafeInt(last);
  if (end === undefined) return { kind: 'none' };
  if (end < start) return { kind: 'none' }; // invalid range-spec: ignore the header (§14.1.1)
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(end, size - 1) };
}

/** @private Digits beyond 2^53 are treated as malformed (no file is that large). */
function toSafeInt(digits: string): number | undefined {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}
