import { describe, expect, it } from 'vitest';
import { helpLine, TOP_KEYS, TopAction } from './keys.ts';

describe('TOP_KEYS and helpLine', () => {
  it('prints the help line from the bindings, skipping unlabelled ones', () => {
    expect(helpLine()).toBe('q quit  Up/Down scroll machines');
    expect(helpLine([{ keys: ['x'], label: 'x', help: 'do x', action: TopAction.quit }])).toBe('x do x');
  });

  it('binds each key once and every action somewhere', () => {
    const keys = TOP_KEYS.flatMap((b) => b.keys);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(TOP_KEYS.map((b) => b.action))).toEqual(new Set(Object.values(TopAction)));
  });
});
