/**
 * Renders a Markdown (GitHub) table. Columns are padded so the raw file
 * reads as well as the rendered one; numeric columns align right.
 */
export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align?: Align;
}

export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  for (const [i, row] of rows.entries()) {
    if (row.length !== columns.length) throw new RangeError(`Cannot render table row ${i}: ${row.length} cells for ${columns.length} columns`);
  }
  const cells = (row: readonly string[]) => row.map((c) => c.replace(/\|/g, '\\|'));
  const body = rows.map(cells);
  const widths = columns.map((c, i) => Math.max(3, c.header.length, ...body.map((r) => r[i]!.length)));
  const pad = (text: string, i: number) => (columns[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (row: readonly string[]) => `| ${row.map(pad).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (columns[i]!.align === 'right' ? '-'.repeat(w - 1) + ':' : '-'.repeat(w))).join(' | ')} |`;
  return [line(columns.map((c) => c.header)), rule, ...body.map(line)].join('\n') + '\n';
}
