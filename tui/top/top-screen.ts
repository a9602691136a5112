/**
 * `trowel top` on the terminal: lays out a DashboardView with blessed and
 * blessed-contrib and turns keys into TopActions. It owns the terminal and
 * nothing else: what to show comes from src/dashboard/view.ts.
 *
 *   machines (table, full width)
 *   throughput (line chart)       | counters
 *   recent events (full width)
 *   help line and connection status
 *
 * The grid has 25 rows so that on an 80x25 console each cell is one line,
 * and the last line is left to the help line. blessed-contrib's chart is
 * drawn with braille dots, which the Linux console's fonts lack and a
 * non-Unicode terminal (a vt100 serial console) cannot show: those get the
 * same series as an ASCII chart.
 */
import blessed from 'blessed';
import Grid from 'blessed-contrib/lib/layout/grid.js';
import line, { type LineChart } from 'blessed-contrib/lib/widget/charts/line.js';
import table, { type TableWidget } from 'blessed-contrib/lib/widget/table.js';
import { TOP_KEYS, TopAction } from '../../src/dashboard/keys.ts';
import { asciiChart } from '../../src/dashboard/ascii-chart.ts';
import type { DashboardView } from '../../src/dashboard/view.ts';

export interface TopScreen {
  show(view: DashboardView): void;
  destroy(): void;
}

interface Widgets {
  machines: TableWidget;
  chart: { kind: 'braille'; widget: LineChart } | { kind: 'ascii'; widget: blessed.Widgets.BoxElement };
  counters: blessed.Widgets.BoxElement;
  events: blessed.Widgets.BoxElement;
  help: blessed.Widgets.BoxElement;
}

export function createTopScreen(onAction: (action: TopAction) => void): TopScreen {
  const screen = blessed.screen({ smartCSR: true, title: 'trowel top', warnings: false, autoPadding: true });
  let widgets = build(screen);
  let last: DashboardView | undefined;

  // blessed-contrib sizes its chart canvas once, when attached: a new size needs new widgets.
  screen.on('resize', () => {
    for (const child of [...screen.children]) child.destroy();
    widgets = build(screen);
    if (last) draw(screen, widgets, last);
  });
  for (const binding of TOP_KEYS) {
    screen.key([...binding.keys], () => {
      if (binding.action === TopAction.up || binding.action === TopAction.down) {
        widgets.machines.rows.scroll(binding.action === TopAction.up ? -1 : 1);
        screen.render();
      }
      onAction(binding.action);
    });
  }

  return {
    show(view) {
      last = view;
      draw(screen, widgets, view);
    },
    destroy() {
      screen.destroy();
    },
  };
}

/** @private */
function build(screen: blessed.Widgets.Screen): Widgets {
  const grid = new Grid({ rows: 25, cols: 12, screen, color: 'cyan' });
  const machines = grid.set(0, 0, 8, 12, table, {
    label: ' machines ',
    columnSpacing: 2,
    columnWidth: [17, 14, 12, 10, 5, 11],
    // No selection bar: blessed keeps it on the same row text as rows change, so it would wander.
    interactive: false,
    keys: false,
    fg: 'white',
  });
  const chart: Widgets['chart'] = canDrawBraille(screen)
    ? {
        kind: 'braille',
        widget: grid.set(8, 0, 9, 8, line, {
          label: ' throughput ',
          // The label is the legend (a legend box would cover the newest points on a small chart).
          tags: true,
          showLegend: false,
          numYLabels: 3,
          xLabelPadding: 3,
          xPadding: 5,
          style: { line: 'yellow', text: 'white', baseline: 'white' },
        }),
      }
    : { kind: 'ascii', widget: grid.set(8, 0, 9, 8, blessed.box, { label: ' throughput ', tags: false, wrap: false }) };
  // Cut, not wrapped: a wrapped event line would push the newest one off the box.
  const counters = grid.set(8, 8, 9, 4, blessed.box, { label: ' counters ', tags: false, wrap: false });
  const events = grid.set(17, 0, 7, 12, blessed.box, { label: ' recent events ', tags: false, wrap: false });
  const help = blessed.box({ parent: screen, bottom: 0, left: 0, height: 1, width: '100%', tags: false, style: { fg: 'black', bg: 'white' } });
  return { machines, chart, counters, events, help };
}

/** @private */
function draw(screen: blessed.Widgets.Screen, w: Widgets, view: DashboardView): void {
  w.machines.setLabel(view.machineTitle);
  w.machines.setData({ headers: view.machines.headers, data: view.machines.rows.map((row) => row.map(untagged)) });

  const t = view.throughput;
  if (w.chart.kind === 'braille') {
    const chart = w.chart.widget;
    // An all-zero series would make the chart divide by a zero range.
    chart.options.maxY = Math.max(...t.served, ...t.received) > 0 ? undefined : 1;
    chart.setLabel(` MiB/s: {yellow-fg}served ${t.servedNow}{/yellow-fg}, {green-fg}received ${t.receivedNow}{/green-fg} `);
    chart.setData([
      { title: 'served', x: t.x, y: t.served, style: { line: 'yellow' } },
      { title: 'received', x: t.x, y: t.received, style: { line: 'green' } },
    ]);
  } else {
    const box = w.chart.widget;
    box.setLabel(` MiB/s: * served ${t.servedNow}, o received ${t.receivedNow} `);
    box.setContent(asciiChart([{ values: t.served }, { values: t.received }], inner(box.width), inner(box.height)).join('\n'));
  }

  w.counters.setContent(view.counters.join('\n'));
  w.events.setContent(tail(view.events, inner(w.events.height)).join('\n'));
  w.help.setContent(` ${view.help}   ${view.status}`);
  screen.render();
}

/**
 * @private Braille dots need Unicode output and a font that has them: the
 * Linux console's fonts have not, and a vt* terminal is a serial console
 * whose other end may be anything.
 */
function canDrawBraille(screen: blessed.Widgets.Screen): boolean {
  // Both are set by blessed's Program but missing from its type declarations.
  const program = screen.program as unknown as { terminal: string; tput: { unicode?: boolean; numbers: Record<string, unknown> } };
  return (program.tput.unicode === true || program.tput.numbers['U8'] === 1) && !/^(linux|vt\d)/.test(program.terminal);
}

/** @private The table renders its cells with blessed tags on; a brace in a hostname must stay text. */
function untagged(cell: string): string {
  return cell.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')'));
}

/** @private Rows inside a bordered box. */
function inner(height: number | string): number {
  return typeof height === 'number' ? Math.max(0, height - 2) : 0;
}

/** @private */
function tail(lines: string[], n: number): string[] {
  return n === 0 ? [] : lines.slice(-n);
}
