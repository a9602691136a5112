/**
 * Text helpers for a character screen (pure): fitting, columns, gauges and
 * sparklines. Every screen of the console is built from lines of these, so
 * the renderer only places lines; `ascii` is for terminals without Unicode
 * (a serial console's vt100).
 */

export interface Charset {
  ascii: boolean;
}

/** Cuts `s` to `width` columns, marking the cut. */
export function fit(s: string, width: number, charset: Charset = { ascii: false }): string {
  if (width <= 0) return '';
  if (s.length <= width) return s;
  return s.slice(0, Math.max(0, width - 1)) + (charset.ascii ? '~' : '…');
}

/** Pads or cuts to exactly `width` columns. */
export function cell(s: string, width: number, charset?: Charset): string {
  return fit(s, width, charset).padEnd(width);
}

/**
 * Lays rows out in columns: each column as wide as its widest cell, the
 * last one taking (and cut to) what is left of `width`.
 */
export function columns(rows: readonly (readonly string[])[], width: number, charset?: Charset): string[] {
  const count = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: count }, (_, i) => Math.max(0, ...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => {
    let line = '';
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      const room = width - line.length;
      if (room <= 0) break;
      line += last ? fit(r[i] ?? '', room, charset) : cell(r[i] ?? '', Math.min(widths[i]!, room), charset) + '  ';
    }
    return line.trimEnd();
  });
}

/** "[#########---------]" filled to `fraction` (0..1). */
export function gauge(fraction: number, width: number, charset: Charset = { ascii: false }): string {
  const inner = Math.max(1, width - 2);
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.floor(f * inner + 1e-9);
  // Not a middle dot: blessed sends that through the line-drawing set (ACS "~"), which some terminals show as "~".
  return `[${(charset.ascii ? '#' : '█').repeat(full)}${(charset.ascii ? '-' : ' ').repeat(inner - full)}]`;
}

const BLOCKS = '▁▂▃▄▅▆▇█';
const ASCII_LEVELS = '_.-=+*#@';

/** The last `width` values as a one-line bar chart scaled to their maximum. */
export function sparkline(values: readonly number[], width: number, charset: Charset = { ascii: false }): string {
  const shown = values.slice(-width);
  const max = Math.max(0, ...shown);
  const levels = charset.ascii ? ASCII_LEVELS : BLOCKS;
  return shown.map((v) => (max <= 0 ? levels[0]! : levels[Math.min(levels.length - 1, Math.round((v / max) * (levels.length - 1)))]!)).join('');
}

/** Whole percent, floored, so 100% means done. */
export function percent(fraction: number): string {
  return `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

/** Breaks text into lines of at most `width` columns at spaces (a longer word is cut). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = '';
      }
      line = line ? `${line} ${word}` : word;
      while (line.length > width) {
        lines.push(line.slice(0, width));
        line = line.slice(width);
      }
    }
    lines.push(line);
  }
  return lines;
}
