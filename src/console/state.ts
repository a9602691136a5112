/**
 * The console's state and what moves it (pure): the screens, the state
 * they share, the intents (keys and effect results) and effects (work for
 * session.ts to do), the first state, the menus, and the selectors views and
 * the flow both read. flow.ts holds the transitions.
 */
import type { Disk } from '../disks/types.ts';
import type { Inventory } from '../inventory/types.ts';
import type { TemplateRef } from '../pool/names.ts';
import type { PackageDiff } from '../pool/packages.ts';
import { TRANSPORTS, type StreamTransport } from '../provision/cmdline.ts';
import type { ProvisionOptions } from '../provision/run-provision.ts';
import type { ProvisionEvent } from '../provision/server-client.ts';
import type { RemoteTemplate } from '../stream/template-api.ts';
import { layoutOptions, type ConsoleLayout } from './layouts.ts';
import { emptyProgress, type ProgressModel } from './progress.ts';

export type ScreenId = 'server' | 'menu' | 'disks' | 'layout' | 'template' | 'version' | 'transport' | 'hostname' | 'confirm' | 'progress' | 'done' | 'failed' | 'hardware';

export type Choices = NonNullable<ProvisionOptions['choices']>;

/** Where the server URL came from, shown beside it. */
export type ServerSource = 'kernel' | 'option' | 'dhcp' | 'typed' | 'none';

export type DiffState = { status: 'loading' } | { status: 'ok'; diff: PackageDiff } | { status: 'error'; message: string };

/** What a dry run of the pipeline settled, shown on the confirmation screen. */
export interface PlannedRun {
  hostname: string;
  /** Partitions the pipeline will create (undefined for keep). */
  partitions: { path: string; role: string; sizeBytes: number | undefined }[] | undefined;
}

export interface ConsoleState {
  screen: ScreenId;
  cursors: Partial<Record<ScreenId, number>>;
  /** An effect is running: the screen says what, keys other than quit wait. */
  busy: string | undefined;
  /** One line under the screen: a refusal, an error, or news. */
  notice: { text: string; tone: 'error' | 'info' } | undefined;
  server: { url: string; source: ServerSource; connected: boolean; input: string };
  templates: RemoteTemplate[];
  disks: Disk[];
  disk: Disk | undefined;
  /** Template versions in the chosen disk's trowel pool. */
  onDisk: TemplateRef[];
  layout: ConsoleLayout | undefined;
  template: RemoteTemplate | undefined;
  version: string | undefined;
  diffs: Record<string, DiffState>;
  transports: readonly StreamTransport[];
  transport: StreamTransport;
  typed: string;
  /** The host name chosen at the console; undefined keeps the plan's (or the default). */
  hostname: string | undefined;
  hostnameInput: string;
  planned: PlannedRun | undefined;
  progress: ProgressModel;
  failure: string | undefined;
  deployed: string | undefined;
  hardware: Inventory | undefined;
  /** The machine has an identity (trowel.mac + trowel.token) to report with. */
  canReport: boolean;
}

export type Intent =
  // keys
  | { kind: 'move'; by: number }
  | { kind: 'choose' }
  | { kind: 'back' }
  | { kind: 'char'; ch: string }
  | { kind: 'erase' }
  | { kind: 'action'; name: ActionName }
  // effect results
  | { kind: 'serverChecked'; url: string; templates: RemoteTemplate[] }
  | { kind: 'disksFound'; disks: Disk[] }
  | { kind: 'poolRead'; subvolumes: string[] }
  | { kind: 'diffLoaded'; version: string; diff: PackageDiff }
  | { kind: 'diffFailed'; version: string; error: string }
  | { kind: 'planned'; run: PlannedRun }
  | { kind: 'event'; event: ProvisionEvent }
  | { kind: 'log'; line: string }
  | { kind: 'provisioned'; rootSubvolume: string; disk: string }
  | { kind: 'hardwareRead'; inventory: Inventory }
  | { kind: 'inventorySent'; server: string }
  | { kind: 'effectDone' }
  | { kind: 'effectFailed'; effect: Effect['kind']; error: string };

export type ActionName = 'refresh' | 'send' | 'shell' | 'reboot' | 'poweroff' | 'retry' | 'menu' | 'quit' | 'server';

export type Effect =
  | { kind: 'checkServer'; url: string }
  | { kind: 'discoverDisks' }
  | { kind: 'readPool'; disk: Disk }
  | { kind: 'loadDiffs'; template: { name: string; arch: string }; versions: string[]; parent: string }
  | { kind: 'dryRun'; choices: Choices }
  | { kind: 'provision'; choices: Choices }
  | { kind: 'collectHardware' }
  | { kind: 'sendInventory'; inventory: Inventory }
  | { kind: 'shell' }
  | { kind: 'reboot' }
  | { kind: 'poweroff' }
  | { kind: 'quit' };

export interface Step {
  state: ConsoleState;
  effects: Effect[];
}

export interface InitialOptions {
  server: string | undefined;
  source: ServerSource;
  canReport: boolean;
  transports?: readonly StreamTransport[];
}

/** The first state, and the server check to start with when the server is known. */
export function initialStep(options: InitialOptions): Step {
  const state: ConsoleState = {
    screen: 'server', cursors: {}, busy: undefined, notice: undefined,
    server: { url: options.server ?? '', source: options.source, connected: false, input: options.server ?? 'http://' },
    templates: [], disks: [], disk: undefined, onDisk: [], layout: undefined, template: undefined, version: undefined, diffs: {},
    transports: options.transports ?? TRANSPORTS, transport: 'http', typed: '', hostname: undefined, hostnameInput: '', planned: undefined, progress: emptyProgress(),
    failure: undefined, deployed: undefined, hardware: undefined, canReport: options.canReport,
  };
  if (!options.server) return { state, effects: [] };
  return { state: { ...state, busy: `Connecting to ${options.server}` }, effects: [{ kind: 'checkServer', url: options.server }] };
}

/** Main menu entries, in order. */
export const MENU = [
  { id: 'provision', label: 'Provision this machine' },
  { id: 'hardware', label: 'Hardware summary' },
  { id: 'shell', label: 'Shell' },
  { id: 'reboot', label: 'Reboot' },
  { id: 'poweroff', label: 'Power off' },
  { id: 'server', label: 'Change server' },
] as const;

/** What the failure screen offers. */
export const FAILED_MENU = [
  { id: 'retry', label: 'Retry' },
  { id: 'shell', label: 'Shell' },
  { id: 'reboot', label: 'Reboot' },
  { id: 'poweroff', label: 'Power off' },
  { id: 'menu', label: 'Main menu' },
] as const;

/** What the success screen offers. */
export const DONE_MENU = [
  { id: 'reboot', label: 'Reboot into the new system' },
  { id: 'menu', label: 'Main menu' },
  { id: 'poweroff', label: 'Power off' },
] as const;
/** The technician's choices, as the pipeline takes them. */
export function choicesOf(s: ConsoleState): Choices {
  return {
    server: s.server.url, disk: s.disk!.path, layout: s.layout, wipe: s.layout === 'auto',
    template: s.template!.name, arch: s.template!.arch as Choices['arch'], version: s.version, transport: s.transport, hostname: s.hostname,
  };
}

/** The chosen layout erases the disk: the confirmation wants its name typed. */
export function isDestructive(s: Pick<ConsoleState, 'disk' | 'layout'>): boolean {
  return s.disk !== undefined && layoutOptions(s.disk).find((o) => o.layout === s.layout)?.destructive === true;
}

/** "vdb" or "/dev/vdb", exactly. */
export function nameMatches(disk: Disk, typed: string): boolean {
  const t = typed.trim();
  return t === disk.name || t === disk.path;
}

/** The newest version of `template` in the disk's pool that the server also has (the incremental base). */
export function parentOnDisk(s: Pick<ConsoleState, 'onDisk'>, template: RemoteTemplate): string | undefined {
  const known = new Set(template.versions.map((v) => v.version));
  return s.onDisk.filter((r) => r.name === template.name && r.arch === template.arch && known.has(r.version)).map((r) => r.version).sort().at(-1);
}

/** The cursor of the current screen, kept within `count` items. */
export function cursorOf(s: Pick<ConsoleState, 'cursors' | 'screen'>, count: number): number {
  return Math.max(0, Math.min(count - 1, s.cursors[s.screen] ?? 0));
}

