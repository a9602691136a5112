import { describe, expect, it } from 'vitest';
import { acceptsText, BINDINGS, helpLine, keyIntent } from './keys.ts';
import { sampleDisks } from './test-fixtures.ts';

const menu = { screen: 'menu' as const, disk: undefined, layout: undefined };

describe('keyIntent', () => {
  it('maps bound keys to intents and ignores unbound ones', () => {
    expect(keyIntent(menu, 'down', undefined)).toEqual({ kind: 'move', by: 1 });
    expect(keyIntent(menu, 'enter', '\r')).toEqual({ kind: 'choose' });
    expect(keyIntent(menu, 's', 's')).toEqual({ kind: 'action', name: 'shell' });
    expect(keyIntent(menu, 'x', 'x')).toBeUndefined();
  });

  it('types printable keys on text screens, where letters are never commands', () => {
    const server = { screen: 'server' as const, disk: undefined, layout: undefined };
    expect(keyIntent(server, 's', 's')).toEqual({ kind: 'char', ch: 's' });
    expect(keyIntent(server, 'backspace', '\x7f')).toEqual({ kind: 'erase' });
    expect(keyIntent(server, 'C-a', '\x01')).toBeUndefined();
    const erasing = { screen: 'confirm' as const, disk: sampleDisks()[0], layout: 'auto' as const };
    expect(acceptsText(erasing)).toBe(true);
    expect(acceptsText({ ...erasing, layout: 'free' })).toBe(false);
    for (const screen of ['server', 'hostname', 'confirm'] as const) {
      expect(BINDINGS[screen].flatMap((b) => b.keys).filter((k) => k.length === 1)).toEqual([]);
    }
  });
});

describe('helpLine', () => {
  it('is printed from the bindings, in ASCII for a serial console', () => {
    expect(helpLine(menu, { ascii: false })).toBe('↑↓ move  Enter choose  s shell  r reboot  p power off  Ctrl-C quit');
    expect(helpLine({ screen: 'disks', disk: undefined, layout: undefined }, { ascii: true })).toBe('Up/Down move  Enter choose disk  r rescan  Esc back  Ctrl-C quit');
    expect(helpLine({ screen: 'confirm', disk: sampleDisks()[0], layout: 'auto' }, { ascii: true })).toBe('Enter start  Backspace erase  Esc change choices  Ctrl-C quit');
    expect(helpLine({ screen: 'confirm', disk: sampleDisks()[0], layout: 'keep' }, { ascii: true })).toBe('Enter start  Esc change choices  Ctrl-C quit');
  });

  it('fits 80 columns on every screen', () => {
    for (const screen of Object.keys(BINDINGS) as (keyof typeof BINDINGS)[]) {
      expect(helpLine({ screen, disk: undefined, layout: undefined }, { ascii: true }).length).toBeLessThanOrEqual(80);
    }
  });
});

describe('bindings that depend on the state', () => {
  it('offers Esc on the server screen only once a server is connected', () => {
    const unconnected = { screen: 'server' as const, disk: undefined, layout: undefined, server: { connected: false } };
    expect(helpLine(unconnected, { ascii: true })).toBe('Enter connect  Backspace erase  Ctrl-C quit');
    expect(keyIntent(unconnected, 'escape', '\x1b')).toBeUndefined();
    const connected = { ...unconnected, server: { connected: true } };
    expect(helpLine(connected, { ascii: true })).toBe('Enter connect  Backspace erase  Esc back  Ctrl-C quit');
    expect(keyIntent(connected, 'escape', '\x1b')).toEqual({ kind: 'back' });
  });
});
