/**
 * `trowel top`'s key bindings, listed once as data: the renderer binds them
 * and the help line is printed from the same list, so the two cannot drift.
 * Key names are blessed's; labels are plain ASCII for serial consoles.
 */
export const TopAction = { quit: 'quit', up: 'up', down: 'down' } as const;
export type TopAction = (typeof TopAction)[keyof typeof TopAction];

export interface KeyBinding {
  keys: readonly string[];
  label: string;
  help: string;
  action: TopAction;
}

export const TOP_KEYS: readonly KeyBinding[] = [
  { keys: ['q', 'C-c', 'escape'], label: 'q', help: 'quit', action: TopAction.quit },
  { keys: ['up', 'k'], label: 'Up/Down', help: 'scroll machines', action: TopAction.up },
  { keys: ['down', 'j'], label: '', help: '', action: TopAction.down },
];

/** "q quit  Up/Down scroll machines": bindings without a label share the previous one's. */
export function helpLine(bindings: readonly KeyBinding[] = TOP_KEYS): string {
  return bindings
    .filter((b) => b.label !== '')
    .map((b) => `${b.label} ${b.help}`)
    .join('  ');
}
