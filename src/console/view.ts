/**
 * What each screen shows, as lines of text fitted to the terminal (pure).
 * The renderer (tui/console) places these lines and highlights the
 * selection; it decides nothing. A "> " marks the selection in the text
 * too, so it reads on a monochrome serial console and in a captured pane.
 */
import { describeDisk, trowelPartitions } from '../disks/pick.ts';
import { inventoryLines } from '../inventory/format.ts';
import { formatBytes } from '../stream/progress.ts';
import { detectSystems, diskContents, diskKind, diskModel, unusableReason } from './disk-rows.ts';
import { cursorOf, DONE_MENU, FAILED_MENU, isDestructive, MENU, parentOnDisk, type ConsoleState, type DiffState, type ScreenId } from './flow.ts';
import { helpLine } from './keys.ts';
import { layoutOptions, layoutPreview } from './layouts.ts';
import { PROGRESS_HEAD_LINES, progressLines, SHOWN_STEPS } from './progress.ts';
import { cell, columns, fit, wrap, type Charset } from './text.ts';

export interface ScreenView {
  title: string;
  status: string;
  /** The body, already windowed to the body's height. */
  lines: string[];
  /** Body lines to highlight (from inclusive, to exclusive). */
  selected: { from: number; to: number } | undefined;
  input: { label: string; value: string } | undefined;
  notice: { text: string; tone: 'error' | 'info' } | undefined;
  help: string;
}

export interface ViewSize {
  columns: number;
  rows: number;
}

const TITLES: Record<ScreenId, string> = {
  server: 'Server', menu: 'Main menu', disks: 'Disks', layout: 'Layout', template: 'Template', version: 'Version',
  transport: 'Transport', hostname: 'Host name', confirm: 'Confirm', progress: 'Provisioning', done: 'Done', failed: 'Failed', hardware: 'Hardware',
};

const TRANSPORT_TEXT: Record<string, string> = {
  http: 'HTTP: this machine downloads the stream from the server',
  multicast: 'Multicast: receive the stream the server sends to many machines at once',
  tee: 'HTTP, and send it on by multicast to the machines beside this one',
};

interface Body {
  lines: string[];
  selected?: { from: number; to: number };
  input?: { label: string; value: string };
}

export function viewOf(s: ConsoleState, size: ViewSize, charset: Charset): ScreenView {
  const width = Math.max(20, size.columns);
  const body = BODIES[s.screen](s, width, Math.max(3, size.rows - 5), charset);
  // Title, status, notice and help take a line each; an input line one more.
  const height = Math.max(3, size.rows - 4 - (body.input ? 1 : 0));
  const windowed = windowLines(body, height);
  const notice = s.busy !== undefined ? { text: `${s.busy}...`, tone: 'info' as const } : s.notice;
  return {
    // Padded: the renderer shows title and help in reverse video across the whole line.
    title: cell(`trowel console - ${TITLES[s.screen]}`, width, charset),
    status: fit(statusLine(s), width, charset),
    lines: windowed.lines.map((l) => fit(l, width, charset)),
    selected: windowed.selected,
    input: body.input,
    notice: notice && { tone: notice.tone, text: fit(notice.text, width, charset) },
    help: cell(helpLine(s, charset), width, charset),
  };
}

/** @private "server http://... (kernel) | /dev/vdb | auto | org.example.Desktop 2026..." */
function statusLine(s: ConsoleState): string {
  const parts = [s.server.url ? `${s.server.url}${s.server.connected ? '' : ' (not connected)'}` : 'no server'];
  if (['layout', 'template', 'version', 'transport', 'hostname', 'confirm', 'progress', 'done', 'failed'].includes(s.screen) && s.disk) parts.push(s.disk.path);
  if (['template', 'version', 'transport', 'hostname', 'confirm', 'progress', 'done', 'failed'].includes(s.screen) && s.layout) parts.push(`layout ${s.layout}`);
  if (['transport', 'hostname', 'confirm', 'progress', 'done', 'failed'].includes(s.screen) && s.template && s.version) parts.push(`${s.template.name} ${s.version}`);
  return parts.join(' | ');
}

type BodyOf = (s: ConsoleState, width: number, height: number, charset: Charset) => Body;

const BODIES: Record<ScreenId, BodyOf> = {
  server(s, width) {
    const from: Record<string, string> = {
      kernel: 'It came from the kernel command line (trowel.server=).', option: 'It came from --server.',
      dhcp: 'It came from the DHCP lease (the next-server address).', typed: 'You typed it.', none: 'None was given at boot.',
    };
    return {
      lines: [
        'Where is the trowel server? Its templates are installed from there.', from[s.server.source] ?? '', '',
        ...wrap('Type its URL (for example http://10.0.0.1:8080) and press Enter; the connection is checked before going on.', width),
      ],
      input: { label: 'Server URL: ', value: s.server.input },
    };
  },
  menu(s) {
    return list(MENU.map((m) => m.label), cursorOf(s, MENU.length), ['Choose what to do:', '']);
  },
  disks(s, width, _h, charset) {
    if (s.disks.length === 0) return { lines: s.busy ? [] : ['No disks found. Press r to look again.'] };
    const rows = s.disks.map((d) => [d.name, diskModel(d), d.serial ?? '-', formatBytes(d.sizeBytes), diskKind(d)]);
    const identity = columns([['DEVICE', 'MODEL', 'SERIAL', 'SIZE', 'TYPE'], ...rows], width - 2, charset);
    const at = cursorOf(s, s.disks.length);
    const lines = [`  ${identity[0]}`];
    s.disks.forEach((d, i) => {
      const systems = detectSystems(d);
      const why = unusableReason(d);
      lines.push(`${i === at ? '> ' : '  '}${identity[i + 1]}`);
      lines.push(`    ${diskContents(d)}${systems.length ? ` | ${systems.join(', ')}` : ''}${why ? ` | cannot use: ${why}` : ''}`);
    });
    return { lines, selected: { from: 1 + 2 * at, to: 3 + 2 * at } };
  },
  layout(s, width, _h, charset) {
    const disk = s.disk!;
    const options = layoutOptions(disk);
    const at = cursorOf(s, options.length);
    const labels = options.map((o) => `${o.title}${o.unavailable ? ' (not possible)' : ''}`);
    const head = [`How should ${describeDisk(disk)} be laid out?`, ''];
    const option = options[at]!;
    const preview = option.unavailable
      ? { summary: `Not possible on this disk: ${option.unavailable}.`, rows: [] }
      : layoutPreview(disk, option.layout, s.onDisk.map((r) => `${r.name} ${r.version}`));
    const tail = ['', ...wrap(`Preview: ${preview.summary}`, width), ...columns(preview.rows, width - 2, charset).map((l) => `  ${l}`)];
    return list(labels, at, head, tail);
  },
  template(s, width, _h, charset) {
    if (s.templates.length === 0) return { lines: ['The server has no templates. Publish one (trowel template publish) and reconnect.'] };
    const at = cursorOf(s, s.templates.length);
    const rows = s.templates.map((t) => {
      const newest = t.versions[0];
      return [t.name, t.arch, newest?.version ?? '-', `${t.versions.length}`, newest ? formatBytes(newest.sizeBytes) : '-'];
    });
    const table = columns([['TEMPLATE', 'ARCH', 'NEWEST', 'VERSIONS', 'SIZE'], ...rows], width - 2, charset);
    const onDisk = s.onDisk.length ? `On the disk: ${s.onDisk.map((r) => `${r.name} ${r.arch} ${r.version}`).join(', ')}` : 'Nothing from trowel is on the disk yet.';
    return { lines: [onDisk, '', `  ${table[0]}`, ...table.slice(1).map((l, i) => `${i === at ? '> ' : '  '}${l}`)], selected: { from: 3 + at, to: 4 + at } };
  },
  version(s, width, _h, charset) {
    const t = s.template!;
    const parent = parentOnDisk(s, t);
    const at = cursorOf(s, t.versions.length);
    const rows = t.versions.map((v) => [v.version, v.publishedAt.slice(0, 16).replace('T', ' '), formatBytes(v.sizeBytes), diffText(v.version === parent ? 'same' : s.diffs[v.version])]);
    const table = columns([['VERSION', 'PUBLISHED (UTC)', 'SIZE', parent ? `PACKAGES VS ${parent}` : 'PACKAGES'], ...rows], width - 2, charset);
    const head = parent
      ? `${t.name} ${t.arch}: package changes against ${parent}, on the disk (+added -removed ~changed)`
      : `${t.name} ${t.arch}: no version of it on the disk to compare packages with`;
    return { lines: [...wrap(head, width), '', `  ${table[0]}`, ...table.slice(1).map((l, i) => `${i === at ? '> ' : '  '}${l}`)], selected: { from: wrap(head, width).length + 2 + at, to: wrap(head, width).length + 3 + at } };
  },
  transport(s) {
    return list(s.transports.map((t) => TRANSPORT_TEXT[t] ?? t), cursorOf(s, s.transports.length), ['How should the template come to this machine?', '']);
  },
  hostname(s, width) {
    return {
      lines: [
        'What should this machine be called?', '',
        ...wrap('The deployed system gets this host name (letters, digits and "-" in dot-separated labels). It starts as the one the server\'s plan or the machine\'s MAC gives.', width),
      ],
      input: s.planned ? { label: 'Host name: ', value: s.hostnameInput } : undefined,
    };
  },
  confirm(s, width) {
    const disk = s.disk!;
    const destructive = isDestructive(s);
    const option = layoutOptions(disk).find((o) => o.layout === s.layout)!;
    const field = (k: string, v: string) => wrap(v, width - 10).map((l, i) => `${(i === 0 ? k : '').padEnd(10)}${l}`);
    const lines = [
      ...field('Install', `${s.template!.name} ${s.template!.arch} ${s.version} over ${s.transport}`),
      ...field('On', describeDisk(disk)),
      ...field('Layout', option.title),
    ];
    if (s.planned) {
      lines.push(...field('Hostname', s.hostname ?? s.planned.hostname));
      if (s.planned.partitions) lines.push(...field('Creates', s.planned.partitions.map((p) => `${p.path} ${p.role}${p.sizeBytes ? ` ${formatBytes(p.sizeBytes)}` : ''}`).join(', ')));
    }
    lines.push('');
    if (destructive) {
      lines.push(...field('ERASES', erasedItems(s).join('; ')));
      lines.push('', ...wrap(`This cannot be undone. To erase ${disk.path}, type its name (${disk.name}) and press Enter.`, width));
    } else {
      lines.push(...field('Erases', 'nothing: every partition on the disk stays'));
      lines.push('', s.planned ? 'Press Enter to start.' : '');
    }
    return { lines, input: destructive ? { label: `Disk to erase (${disk.name}): `, value: s.typed } : undefined };
  },
  progress(s, width, height, charset) {
    return { lines: progressLines(s.progress, width, height, charset) };
  },
  done(s, width, _height, charset) {
    // The gauges stay, at 100%, above the result: the log is on the server (trowel machines events).
    const gauges = progressLines(s.progress, width, 1, charset).slice(0, PROGRESS_HEAD_LINES);
    const head = [...gauges, 'Provisioning complete: 100%.', ...wrap(`Deployed ${s.deployed ?? ''}`, width), ''];
    return list(DONE_MENU.map((m) => m.label), cursorOf(s, DONE_MENU.length), head);
  },
  failed(s, width, height) {
    const step = SHOWN_STEPS.find((name) => s.progress.steps[name].status === 'failed');
    const head = [`Provisioning failed${step ? ` at step ${step}` : ''}:`, ...wrap(s.failure ?? '', width - 2).map((l) => `  ${l}`), ''];
    const log = s.progress.log.slice(-Math.max(0, height - head.length - FAILED_MENU.length - 2));
    return list(FAILED_MENU.map((m) => m.label), cursorOf(s, FAILED_MENU.length), head, ['', ...log]);
  },
  hardware(s) {
    if (!s.hardware) return { lines: [] };
    const send = s.canReport ? 'Press s to send this to the server as the machine\'s inventory.' : 'This machine has no trowel.mac/trowel.token, so it cannot report to the server.';
    return { lines: [...inventoryLines(s.hardware), '', send] };
  },
};

/** What an erasing layout destroys, item by item. */
export function erasedItems(s: Pick<ConsoleState, 'disk'>): string[] {
  const disk = s.disk!;
  const items = disk.partitions.map((p) => {
    const fs = p.filesystem ? `${p.filesystem.type}${p.filesystem.label ? ` '${p.filesystem.label}'` : ''}` : 'no filesystem';
    return `${p.name} ${fs} ${formatBytes(p.sizeBytes)}`;
  });
  if (disk.filesystem) items.push(`the ${disk.filesystem.type} filesystem on the whole disk`);
  if (trowelPartitions(disk)) items.push('the trowel pool with every version, @home and @persistent');
  const systems = detectSystems(disk).filter((x) => x !== 'trowel pool');
  if (systems.length) items.push(`the ${systems.join(' and ')} system${systems.length > 1 ? 's' : ''} on it`);
  items.push(disk.partitionTable ? `the ${disk.partitionTable} partition table` : 'whatever else is on the disk (it looks blank)');
  return items;
}

/** @private */
function diffText(d: DiffState | 'same' | undefined): string {
  if (d === 'same') return 'on the disk';
  if (d === undefined) return '-';
  if (d.status === 'loading') return '...';
  if (d.status === 'error') return /404|ENOTFOUND|packages_not_found/.test(d.message) ? 'no package list' : 'unknown';
  const { added, removed, changed } = d.diff;
  return `+${added.length} -${removed.length} ~${changed.length}`;
}

/** @private A menu-like list with a "> " marker, between optional head and tail lines. */
function list(items: readonly string[], at: number, head: string[] = [], tail: string[] = []): Body {
  return {
    lines: [...head, ...items.map((l, i) => `${i === at ? '> ' : '  '}${l}`), ...tail],
    selected: { from: head.length + at, to: head.length + at + 1 },
  };
}

/** @private Keeps the selection in view when the body is taller than the room. */
function windowLines(body: Body, height: number): { lines: string[]; selected: Body['selected'] } {
  if (body.lines.length <= height) return { lines: body.lines, selected: body.selected };
  const sel = body.selected ?? { from: 0, to: 1 };
  const top = Math.max(0, Math.min(body.lines.length - height, sel.to - height + 1));
  const start = sel.from < top ? sel.from : top;
  return { lines: body.lines.slice(start, start + height), selected: body.selected && { from: sel.from - start, to: sel.to - start } };
}
