/**
 * The console's screen flow as a state machine (pure): `update(state,
 * intent)` returns the next state and the effects to run (server checks,
 * disk discovery, the provisioning pipeline, a shell...). Intents are keys
 * the technician pressed (keys.ts turns key names into them) or results of
 * effects (session.ts feeds those back). Nothing is written to a disk
 * except through the `provision` effect, which only the confirmation
 * screen emits, and for an erasing layout only after the disk's name was
 * typed.
 */
import type { Disk } from '../disks/types.ts';
import { parseSubvolumeName, type TemplateRef } from '../pool/names.ts';
import { validateHostname } from '../provision/plan.ts';
import { unusableReason } from './disk-rows.ts';
import { layoutOptions } from './layouts.ts';
import { appendLog, applyEvent, emptyProgress } from './progress.ts';
import {
  choicesOf, cursorOf, DONE_MENU, FAILED_MENU, isDestructive, MENU, nameMatches, parentOnDisk,
  type ConsoleState, type DiffState, type Effect, type Intent, type ScreenId, type Step,
} from './state.ts';

export * from './state.ts';

export function update(state: ConsoleState, intent: Intent): Step {
  const s = { ...state };
  switch (intent.kind) {
    case 'serverChecked':
      return go({ ...s, busy: undefined, server: { ...s.server, url: intent.url, connected: true, input: intent.url }, templates: intent.templates }, 'menu', {
        notice: { text: `Connected to ${intent.url}: ${intent.templates.length} template${intent.templates.length === 1 ? '' : 's'}`, tone: 'info' },
      });
    case 'disksFound':
      return stay({ ...s, busy: undefined, disks: intent.disks, notice: intent.disks.length ? undefined : { text: 'No disks found: is the disk controller\'s driver loaded?', tone: 'error' } });
    case 'poolRead': {
      const onDisk = intent.subvolumes.map(parseSubvolumeName).filter((r): r is TemplateRef => r !== undefined);
      return go({ ...s, busy: undefined, onDisk }, 'layout', { cursor: firstAvailable(s.disk!) });
    }
    case 'diffLoaded':
      return stay({ ...s, diffs: { ...s.diffs, [intent.version]: { status: 'ok', diff: intent.diff } } });
    case 'diffFailed':
      return stay({ ...s, diffs: { ...s.diffs, [intent.version]: { status: 'error', message: intent.error } } });
    case 'planned':
      return stay({ ...s, busy: undefined, planned: intent.run, hostnameInput: s.hostnameInput || intent.run.hostname });
    case 'event':
      return stay({ ...s, progress: applyEvent(s.progress, intent.event) });
    case 'log':
      return stay({ ...s, progress: { ...s.progress, log: appendLog(s.progress.log, intent.line) } });
    case 'provisioned':
      return go({ ...s, busy: undefined, deployed: `${intent.rootSubvolume} on ${intent.disk}` }, 'done');
    case 'hardwareRead':
      return stay({ ...s, busy: undefined, hardware: intent.inventory });
    case 'inventorySent':
      return stay({ ...s, busy: undefined, notice: { text: `Inventory sent to ${intent.server}`, tone: 'info' } });
    case 'effectDone':
      return stay({ ...s, busy: undefined });
    case 'effectFailed':
      return failed(s, intent.effect, intent.error);
    default:
      break;
  }
  // While an effect runs, only quitting is possible (and not while the disk is written).
  if (s.busy !== undefined && !(intent.kind === 'action' && intent.name === 'quit' && s.screen !== 'progress')) return stay(s);
  if (intent.kind === 'action' && intent.name === 'quit') {
    if (s.screen === 'progress') return stay({ ...s, notice: { text: 'Provisioning is writing the disk: wait for it to end', tone: 'error' } });
    return { state: s, effects: [{ kind: 'quit' }] };
  }
  s.notice = undefined;
  return SCREENS[s.screen](s, intent);
}

type ScreenUpdate = (s: ConsoleState, intent: Intent) => Step;

const SCREENS: Record<ScreenId, ScreenUpdate> = {
  server(s, i) {
    if (i.kind === 'char') return stay({ ...s, server: { ...s.server, input: s.server.input + i.ch } });
    if (i.kind === 'erase') return stay({ ...s, server: { ...s.server, input: s.server.input.slice(0, -1) } });
    if (i.kind === 'back' && s.server.connected) return go(s, 'menu');
    if (i.kind === 'choose') {
      const url = s.server.input.trim().replace(/\/+$/, '');
      if (!/^https?:\/\/[^\s/]+/.test(url)) return stay({ ...s, notice: { text: `Cannot use "${url}": type the server's URL, e.g. http://10.0.0.1:8080`, tone: 'error' } });
      const source = url === s.server.url ? s.server.source : 'typed';
      return run({ ...s, server: { ...s.server, source, url } }, `Connecting to ${url}`, { kind: 'checkServer', url });
    }
    return stay(s);
  },
  menu(s, i) {
    const at = cursorOf(s, MENU.length);
    if (i.kind === 'move') return moved(s, i.by, MENU.length);
    if (i.kind === 'action' && ['shell', 'reboot', 'poweroff'].includes(i.name)) return { state: s, effects: [{ kind: i.name as 'shell' }] };
    if (i.kind !== 'choose') return stay(s);
    const id = MENU[at]!.id;
    // Disks are read afresh each time: a table from before could show what is no longer there.
    if (id === 'provision') return run(go({ ...s, disks: [] }, 'disks').state, 'Looking for disks', { kind: 'discoverDisks' });
    if (id === 'hardware') return run(go(s, 'hardware').state, 'Reading the hardware', { kind: 'collectHardware' });
    if (id === 'server') return go({ ...s, server: { ...s.server, input: s.server.url || 'http://' } }, 'server');
    return { state: s, effects: [{ kind: id }] };
  },
  disks(s, i) {
    if (i.kind === 'move') return moved(s, i.by, s.disks.length);
    if (i.kind === 'back') return go(s, 'menu');
    if (i.kind === 'action' && i.name === 'refresh') return run(s, 'Looking for disks', { kind: 'discoverDisks' });
    if (i.kind !== 'choose' || s.disks.length === 0) return stay(s);
    const disk = s.disks[cursorOf(s, s.disks.length)]!;
    const why = unusableReason(disk);
    if (why) return stay({ ...s, notice: { text: `Cannot install on ${disk.path}: ${why}`, tone: 'error' } });
    const next = { ...s, disk, onDisk: [], layout: undefined, diffs: {} };
    if (layoutOptions(disk).some((o) => o.layout === 'keep' && o.unavailable === undefined)) {
      return run(next, `Reading the trowel pool on ${disk.path}`, { kind: 'readPool', disk });
    }
    return go(next, 'layout', { cursor: firstAvailable(disk) });
  },
  layout(s, i) {
    const options = layoutOptions(s.disk!);
    if (i.kind === 'move') return moved(s, i.by, options.length);
    if (i.kind === 'back') return go(s, 'disks');
    if (i.kind !== 'choose') return stay(s);
    const option = options[cursorOf(s, options.length)]!;
    if (option.unavailable) return stay({ ...s, notice: { text: `Cannot use that layout on ${s.disk!.path}: ${option.unavailable}`, tone: 'error' } });
    // Start on the template already on the disk, if the server still has it.
    const current = s.onDisk.at(-1);
    const index = current ? s.templates.findIndex((t) => t.name === current.name && t.arch === current.arch) : -1;
    return go({ ...s, layout: option.layout }, 'template', { cursor: Math.max(0, index) });
  },
  template(s, i) {
    if (i.kind === 'move') return moved(s, i.by, s.templates.length);
    if (i.kind === 'back') return go(s, 'layout');
    if (i.kind !== 'choose') return stay(s);
    const template = s.templates[cursorOf(s, s.templates.length)];
    if (!template || template.versions.length === 0) return stay({ ...s, notice: { text: 'The server has no template to install: publish one first', tone: 'error' } });
    const next = go({ ...s, template, diffs: {} }, 'version', { cursor: 0 });
    const parent = parentOnDisk(s, template);
    if (!parent) return next;
    const versions = template.versions.map((v) => v.version).filter((v) => v !== parent).slice(0, 20);
    const diffs = Object.fromEntries(versions.map((v) => [v, { status: 'loading' } as DiffState]));
    return { state: { ...next.state, diffs }, effects: [{ kind: 'loadDiffs', template: { name: template.name, arch: template.arch }, versions, parent }] };
  },
  version(s, i) {
    const versions = s.template!.versions;
    if (i.kind === 'move') return moved(s, i.by, versions.length);
    if (i.kind === 'back') return go(s, 'template');
    if (i.kind !== 'choose') return stay(s);
    return go({ ...s, version: versions[cursorOf(s, versions.length)]!.version }, 'transport', { cursor: Math.max(0, s.transports.indexOf(s.transport)) });
  },
  transport(s, i) {
    if (i.kind === 'move') return moved(s, i.by, s.transports.length);
    if (i.kind === 'back') return go(s, 'version');
    if (i.kind !== 'choose') return stay(s);
    const next = go({ ...s, transport: s.transports[cursorOf(s, s.transports.length)]!, typed: '', planned: undefined }, 'hostname').state;
    return run(next, 'Checking the plan (nothing is written)', { kind: 'dryRun', choices: choicesOf(next) });
  },
  hostname(s, i) {
    if (i.kind === 'back') return go(s, 'transport');
    if (i.kind === 'char') return stay({ ...s, hostnameInput: (s.hostnameInput + i.ch).slice(0, 253) });
    if (i.kind === 'erase') return stay({ ...s, hostnameInput: s.hostnameInput.slice(0, -1) });
    if (i.kind !== 'choose' || !s.planned) return stay(s);
    const name = s.hostnameInput.trim();
    try {
      validateHostname(name);
    } catch (e) {
      return stay({ ...s, notice: { text: (e as Error).message, tone: 'error' } });
    }
    return go({ ...s, hostname: name, typed: '' }, 'confirm');
  },
  confirm(s, i) {
    const destructive = isDestructive(s);
    if (i.kind === 'back') return go({ ...s, typed: '' }, 'hostname');
    if (i.kind === 'char' && destructive) return stay({ ...s, typed: (s.typed + i.ch).slice(0, 64) });
    if (i.kind === 'erase') return stay({ ...s, typed: s.typed.slice(0, -1) });
    if (i.kind !== 'choose' || !s.planned) return stay(s);
    if (destructive && !nameMatches(s.disk!, s.typed)) {
      const typed = s.typed === '' ? 'Nothing was typed' : `"${s.typed}" is not ${s.disk!.name}`;
      return stay({ ...s, typed: '', notice: { text: `${typed}: nothing was written (Esc goes back)`, tone: 'error' } });
    }
    return startProvision(s);
  },
  progress(s) {
    return stay(s);
  },
  done(s, i) {
    if (i.kind === 'move') return moved(s, i.by, DONE_MENU.length);
    if (i.kind === 'action' && (i.name === 'reboot' || i.name === 'poweroff')) return { state: s, effects: [{ kind: i.name }] };
    if (i.kind === 'back' || (i.kind === 'action' && i.name === 'menu')) return go(s, 'menu');
    if (i.kind !== 'choose') return stay(s);
    const id = DONE_MENU[cursorOf(s, DONE_MENU.length)]!.id;
    return id === 'menu' ? go(s, 'menu') : { state: s, effects: [{ kind: id }] };
  },
  failed(s, i) {
    if (i.kind === 'move') return moved(s, i.by, FAILED_MENU.length);
    const id = i.kind === 'choose' ? FAILED_MENU[cursorOf(s, FAILED_MENU.length)]!.id : i.kind === 'action' ? i.name : i.kind === 'back' ? 'menu' : undefined;
    if (id === 'retry') return startProvision(s);
    if (id === 'menu') return go(s, 'menu');
    if (id === 'shell' || id === 'reboot' || id === 'poweroff') return { state: s, effects: [{ kind: id }] };
    return stay(s);
  },
  hardware(s, i) {
    if (i.kind === 'back') return go(s, 'menu');
    if (i.kind === 'action' && i.name === 'refresh') return run(s, 'Reading the hardware', { kind: 'collectHardware' });
    if (i.kind === 'action' && i.name === 'send' && s.hardware) {
      if (!s.canReport) return stay({ ...s, notice: { text: 'Cannot send the inventory: this machine has no trowel.mac and trowel.token (boot it from the server)', tone: 'error' } });
      return run(s, `Sending the inventory to ${s.server.url}`, { kind: 'sendInventory', inventory: s.hardware });
    }
    return stay(s);
  },
};

/** @private */
function startProvision(s: ConsoleState): Step {
  const next = go({ ...s, typed: '', progress: emptyProgress(), failure: undefined, deployed: undefined }, 'progress').state;
  return { state: next, effects: [{ kind: 'provision', choices: choicesOf(next) }] };
}

/** @private Where a failed effect leaves the console. */
function failed(s: ConsoleState, effect: Effect['kind'], error: string): Step {
  const base = { ...s, busy: undefined };
  switch (effect) {
    case 'checkServer':
      return go({ ...base, server: { ...s.server, connected: false } }, 'server', { notice: { text: error, tone: 'error' } });
    case 'provision':
      return go({ ...base, failure: error, progress: { ...s.progress, log: appendLog(s.progress.log, `failed: ${error}`) } }, 'failed', { cursor: 0 });
    case 'dryRun':
      return stay({ ...base, planned: undefined, notice: { text: `${error} (Esc to change the choices)`, tone: 'error' } });
    case 'readPool':
      // The pool could not be read: the layouts still work, there is just no version to compare with.
      return go({ ...base, onDisk: [] }, 'layout', { cursor: firstAvailable(s.disk!), notice: { text: error, tone: 'error' } });
    default:
      return stay({ ...base, notice: { text: error, tone: 'error' } });
  }
}

/** @private The layout to start on: keeping a trowel pool when there is one (it erases nothing), else the first possible. */
function firstAvailable(disk: Disk): number {
  const options = layoutOptions(disk);
  const keep = options.findIndex((o) => o.layout === 'keep' && o.unavailable === undefined);
  return keep >= 0 ? keep : Math.max(0, options.findIndex((o) => o.unavailable === undefined));
}

/** @private */
function go(s: ConsoleState, screen: ScreenId, extra: { cursor?: number; notice?: ConsoleState['notice'] } = {}): Step {
  const cursors = extra.cursor === undefined ? s.cursors : { ...s.cursors, [screen]: extra.cursor };
  return { state: { ...s, screen, cursors, notice: extra.notice ?? s.notice }, effects: [] };
}

/** @private */
function stay(s: ConsoleState): Step {
  return { state: s, effects: [] };
}

/** @private */
function run(s: ConsoleState, busy: string, effect: Effect): Step {
  return { state: { ...s, busy }, effects: [effect] };
}

/** @private */
function moved(s: ConsoleState, by: number, count: number): Step {
  if (count === 0) return stay(s);
  const at = Math.max(0, Math.min(count - 1, cursorOf(s, count) + by));
  return stay({ ...s, cursors: { ...s.cursors, [s.screen]: at } });
}
