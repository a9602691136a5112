/**
 * Types for the blessed-contrib files `trowel top` imports one by one (the
 * package has no types, and its index pulls in markdown, maps and pictures
 * the dashboard does not use, ~2 MB more in the single binary).
 */
declare module 'blessed-contrib/lib/layout/grid.js' {
  import type { Widgets } from 'blessed';
  class Grid {
    constructor(options: { rows: number; cols: number; screen: Widgets.Screen; hideBorder?: boolean; color?: string });
    set<T>(row: number, col: number, rowSpan: number, colSpan: number, factory: (options: Record<string, unknown>) => T, options: Record<string, unknown>): T;
  }
  export default Grid;
}

declare module 'blessed-contrib/lib/widget/charts/line.js' {
  import type { Widgets } from 'blessed';
  export interface LineSeries {
    title: string;
    x: string[];
    y: number[];
    style?: { line?: string };
  }
  export interface LineChart extends Widgets.BoxElement {
    options: { maxY?: number } & Record<string, unknown>;
    setData(series: LineSeries[]): void;
  }
  const line: (options: Record<string, unknown>) => LineChart;
  export default line;
}

declare module 'blessed-contrib/lib/widget/table.js' {
  import type { Widgets } from 'blessed';
  export interface TableWidget extends Widgets.BoxElement {
    rows: Widgets.ListElement;
    setData(data: { headers: string[]; data: string[][] }): void;
  }
  const table: (options: Record<string, unknown>) => TableWidget;
  export default table;
}
