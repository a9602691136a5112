import { describe, expect, it } from 'vitest';
import { renderTable } from './table.ts';

describe('renderTable', () => {
  it('renderTable pads cells and right-aligns numeric columns', () => {
    const text = renderTable(
      [{ header: 'server' }, { header: 's', align: 'right' }],
      [['trowel', '1.5'], ['dnsmasq', '12.25']],
    );
    expect(text).toBe(
      '| server  |     s |\n' +
      '| ------- | ----: |\n' +
      '| trowel  |   1.5 |\n' +
      '| dnsmasq | 12.25 |\n',
    );
  });

  it('renderTable escapes pipes inside cells', () => {
    expect(renderTable([{ header: 'a' }], [['x|y']])).toBe('| a    |\n| ---- |\n| x\\|y |\n');
  });

  it('renderTable refuses a row with the wrong number of cells', () => {
    expect(() => renderTable([{ header: 'a' }, { header: 'b' }], [['only one']])).toThrow(/row 0: 1 cells for 2 columns/);
  });
});
