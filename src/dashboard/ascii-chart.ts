/**
 * A line chart in plain ASCII, for terminals that cannot draw the braille
 * dots blessed-contrib's chart is made of: the Linux console's fonts have
 * no braille, and a vt100 serial console has no Unicode at all. Each column
 * is one point; the first series is drawn with '*', the second with 'o',
 * '@' where both fall on the same cell. The y axis is labelled on the left.
 */
export interface AsciiSeries {
  values: readonly number[];
}

const MARKS = ['*', 'o'] as const;
const BOTH = '@';

/** `height` lines of `width` characters (labels included); the newest points are kept when too many. */
export function asciiChart(series: readonly AsciiSeries[], width: number, height: number): string[] {
  if (width <= 0 || height <= 0) return [];
  // The scale follows the points on screen; the label's width depends on the scale, so fit twice.
  let top = scaleTop(series, width);
  const labels = () => [formatAxis(top), formatAxis(0)];
  const labelWidth = Math.max(...labels().map((l) => l.length));
  const plotWidth = Math.max(0, width - labelWidth - 1);
  top = scaleTop(series, plotWidth);
  const [topLabel, zeroLabel] = labels();
  const grid = Array.from({ length: height }, () => Array<string>(plotWidth).fill(' '));

  series.slice(0, MARKS.length).forEach((s, i) => {
    const values = plotWidth === 0 ? [] : s.values.slice(-plotWidth);
    const offset = plotWidth - values.length;
    values.forEach((v, x) => {
      // Row 0 is the top; a value of 0 sits on the bottom row.
      const row = height - 1 - Math.round((Math.max(0, v) / top) * (height - 1));
      const cell = grid[row]![offset + x]!;
      grid[row]![offset + x] = cell === ' ' ? MARKS[i]! : cell === MARKS[i] ? cell : BOTH;
    });
  });

  return grid.map((cells, row) => {
    const label = row === 0 ? topLabel! : row === height - 1 ? zeroLabel! : '';
    return `${label.padStart(labelWidth)}|${cells.join('')}`;
  });
}

/** @private The largest of the newest `points` values of any series; 1 when all are 0. */
function scaleTop(series: readonly AsciiSeries[], points: number): number {
  const max = Math.max(0, ...series.flatMap((s) => (points > 0 ? s.values.slice(-points) : [])));
  return max > 0 ? max : 1;
}

/** @private Two significant decimals at most: "15", "1.5", "0.25". */
function formatAxis(n: number): string {
  return n >= 10 ? String(Math.round(n)) : String(Math.round(n * 100) / 100);
}
