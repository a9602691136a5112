/**
 * Key bindings as data (pure): per screen, which keys do what. The same
 * table turns a key into an intent and prints the help line, so the help
 * can never disagree with the keys. Key names are blessed's (`enter`,
 * `escape`, `up`, `C-c`); on screens that take text, printable keys type.
 */
import { isDestructive, type ActionName, type ConsoleState, type Intent, type ScreenId } from './flow.ts';
import type { Charset } from './text.ts';

/** What of the state decides which keys apply. */
export type KeyContext = Pick<ConsoleState, 'screen' | 'disk' | 'layout'> & { server?: Pick<ConsoleState['server'], 'connected'> };

export interface Binding {
  keys: readonly string[];
  /** How the help line names the keys. */
  label: string;
  /** The same, for terminals without Unicode arrows. */
  ascii?: string;
  does: string;
  intent: Intent;
  /** The binding applies (and shows in the help) only when this holds. */
  when?: (s: KeyContext) => boolean;
}

const MOVE: Binding[] = [
  { keys: ['up'], label: '↑↓', ascii: 'Up/Down', does: 'move', intent: { kind: 'move', by: -1 } },
  { keys: ['down'], label: '', does: '', intent: { kind: 'move', by: 1 } },
  { keys: ['pageup'], label: '', does: '', intent: { kind: 'move', by: -10 } },
  { keys: ['pagedown'], label: '', does: '', intent: { kind: 'move', by: 10 } },
];
const choose = (does: string): Binding => ({ keys: ['enter'], label: 'Enter', does, intent: { kind: 'choose' } });
const back = (does = 'back'): Binding => ({ keys: ['escape'], label: 'Esc', does, intent: { kind: 'back' } });
const action = (key: string, does: string, name: ActionName): Binding => ({ keys: [key], label: key, does, intent: { kind: 'action', name } });
const ERASE: Binding = { keys: ['backspace'], label: 'Backspace', does: 'erase', intent: { kind: 'erase' }, when: (s) => acceptsText(s) };
const QUIT: Binding = { keys: ['C-c'], label: 'Ctrl-C', does: 'quit', intent: { kind: 'action', name: 'quit' } };

export const BINDINGS: Record<ScreenId, readonly Binding[]> = {
  // Back to the menu only from a server already connected: the console cannot work without one.
  server: [choose('connect'), ERASE, { ...back(), when: (s) => s.server?.connected === true }, QUIT],
  menu: [...MOVE, choose('choose'), action('s', 'shell', 'shell'), action('r', 'reboot', 'reboot'), action('p', 'power off', 'poweroff'), QUIT],
  disks: [...MOVE, choose('choose disk'), action('r', 'rescan', 'refresh'), back(), QUIT],
  layout: [...MOVE, choose('choose layout'), back(), QUIT],
  template: [...MOVE, choose('choose template'), back(), QUIT],
  version: [...MOVE, choose('choose version'), back(), QUIT],
  transport: [...MOVE, choose('choose transport'), back(), QUIT],
  hostname: [choose('use this name'), ERASE, back(), QUIT],
  confirm: [choose('start'), ERASE, back('change choices'), QUIT],
  progress: [],
  done: [...MOVE, choose('choose'), action('r', 'reboot', 'reboot'), back('main menu'), QUIT],
  failed: [...MOVE, choose('choose'), action('r', 'retry', 'retry'), action('s', 'shell', 'shell'), back('main menu'), QUIT],
  hardware: [action('s', 'send to server', 'send'), action('r', 'read again', 'refresh'), back(), QUIT],
};

/** The screen takes typed text: the server's URL, the host name, or the disk's name before erasing it. */
export function acceptsText(s: KeyContext): boolean {
  return s.screen === 'server' || s.screen === 'hostname' || (s.screen === 'confirm' && isDestructive(s));
}

/** The intent of a key on the current screen, or undefined when it does nothing there. */
export function keyIntent(s: KeyContext, key: string, ch: string | undefined): Intent | undefined {
  const bound = BINDINGS[s.screen].find((b) => b.keys.includes(key) && (b.when?.(s) ?? true));
  if (bound) return bound.intent;
  if (acceptsText(s) && ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\x7f') return { kind: 'char', ch };
  return undefined;
}

/** "↑↓ move  Enter choose disk  r rescan  Esc back  Ctrl-C quit". */
export function helpLine(s: KeyContext, charset: Charset): string {
  if (s.screen === 'progress') return 'Provisioning: the keys wait until it ends';
  return BINDINGS[s.screen]
    .filter((b) => b.does !== '' && (b.when?.(s) ?? true))
    .map((b) => `${charset.ascii ? (b.ascii ?? b.label) : b.label} ${b.does}`)
    .join('  ');
}
