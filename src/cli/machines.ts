/**
 * `trowel machines list|show|set-action`: the machine registry through the
 * server's HTTP API (so it works from any host that can reach the server).
 * Reading needs no token; set-action sends the admin token from --token,
 * TROWEL_TOKEN, or <state-dir>/admin.token on the server itself.
 */
import { join } from 'node:path';
import { describeError, TrowelError } from '../errors.ts';
import { ADMIN_TOKEN_FILE, ApiClient, readAdminToken, type MachineEvent, type MachineView } from '../http/index.ts';
import { inventoryLines } from '../inventory/format.ts';
import type { Inventory } from '../inventory/types.ts';
import { BOOT_ACTIONS, type BootAction } from '../store/machines.ts';
import { parsePlan, type MachinePlan } from '../store/plan.ts';
import { normalizeMac } from '../wire/mac.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const USAGE = `usage: trowel machines list [--json]
       trowel machines show <mac> [--json]
       trowel machines set-action <mac> <${BOOT_ACTIONS.join('|')}>
       trowel machines set-plan <mac> --template NAME [--version V] [--arch A] [--disk D]
                                [--layout L] [--wipe] [--hostname H] [--mode unattended|tui]
       trowel machines events <mac> [--json]

options:
  --server URL     trowel server (default $TROWEL_SERVER, else http://127.0.0.1:8080)
  --token TOKEN    admin token for set-action (default $TROWEL_TOKEN, else <state-dir>/admin.token)
  --state-dir DIR  where the server keeps admin.token (default /var/lib/trowel)
  --json           print the server's JSON instead of a table

set-plan stores what the machine's next PXE boot installs and sets its action
to provision (fields: docs/provisioning.md). It needs the admin token too.`;

/** Where output goes; tests pass their own. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

const processIo: CommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

const OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  template: { type: 'string' },
  version: { type: 'string' },
  arch: { type: 'string' },
  disk: { type: 'string' },
  layout: { type: 'string' },
  wipe: { type: 'boolean' },
  hostname: { type: 'string' },
  mode: { type: 'string' },
} as const;

export async function machinesCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  let request: ParsedRequest;
  try {
    request = parseRequest(argv, io.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`trowel machines: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (request.kind === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    const now = Date.now();
    switch (request.kind) {
      case 'list': {
        const machines = await new ApiClient({ server: request.server }).listMachines();
        io.stdout(request.json ? toJson(machines) : formatMachineTable(machines, now));
        break;
      }
      case 'show': {
        const client = new ApiClient({ server: request.server });
        const machine = await client.getMachine(request.mac);
        // A server older than the inventory route has none to show.
        const reported = await client.getInventory(request.mac).catch(() => undefined);
        const inventory = reported?.inventory ?? null;
        io.stdout(request.json ? toJson({ ...machine, inventory }) : formatMachine(machine, now) + formatInventory(inventory, reported?.receivedAt ?? null));
        break;
      }
      case 'set-action': {
        const token = request.token ?? adminTokenFromFile(request.stateDir);
        const machine = await new ApiClient({ server: request.server, token }).setAction(request.mac, request.action);
        io.stdout(request.json ? toJson(machine) : `${machine.mac}: boot action is now ${machine.action}\n`);
        break;
      }
      case 'set-plan': {
        const token = request.token ?? adminTokenFromFile(request.stateDir);
        const machine = await new ApiClient({ server: request.server, token }).setPlan(request.mac, request.plan);
        io.stdout(request.json ? toJson(machine) : `${machine.mac}: will install ${request.plan.template} ${request.plan.version ?? 'latest'} at its next PXE boot (action ${machine.action})\n`);
        break;
      }
      case 'events': {
        const events = await new ApiClient({ server: request.server }).listEvents(request.mac);
        io.stdout(request.json ? toJson(events) : formatEvents(events));
        break;
      }
    }
    return 0;
  } catch (e) {
    io.stderr(`trowel: ${describeError(e)}\n`);
    return 1;
  }
}

type ParsedRequest =
  | { kind: 'help' }
  | { kind: 'list'; server: string; json: boolean }
  | { kind: 'show'; server: string; json: boolean; mac: string }
  | { kind: 'set-action'; server: string; json: boolean; mac: string; action: BootAction; token: string | undefined; stateDir: string }
  | { kind: 'set-plan'; server: string; json: boolean; mac: string; plan: MachinePlan; token: string | undefined; stateDir: string }
  | { kind: 'events'; server: string; json: boolean; mac: string };

/** @private Turns argv into one request, or throws UsageError. */
function parseRequest(argv: string[], env: NodeJS.ProcessEnv): ParsedRequest {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE, true);
  if (values.help) return { kind: 'help' };
  const server = values.server ?? env.TROWEL_SERVER ?? 'http://127.0.0.1:8080';
  if (!URL.canParse(server) || !/^https?:$/.test(new URL(server).protocol)) {
    throw new UsageError(`--server must be an http:// URL, not "${server}"`, USAGE);
  }
  const json = values.json ?? false;
  const [sub, ...args] = positionals;
  const expect = (n: number) => {
    if (args.length !== n) throw new UsageError(`"machines ${sub}" takes ${n === 0 ? 'no arguments' : n === 1 ? 'a MAC address' : 'a MAC address and an action'}`, USAGE);
  };
  const mac = (raw: string) => {
    const m = normalizeMac(raw);
    if (!m) throw new UsageError(`"${raw}" is not a MAC address (like 52:54:00:12:34:56)`, USAGE);
    return m;
  };
  switch (sub) {
    case 'list':
      expect(0);
      return { kind: 'list', server, json };
    case 'show':
      expect(1);
      return { kind: 'show', server, json, mac: mac(args[0]!) };
    case 'set-action': {
      expect(2);
      const action = args[1]!;
      if (!(BOOT_ACTIONS as readonly string[]).includes(action)) {
        throw new UsageError(`"${action}" is not a boot action; use one of ${BOOT_ACTIONS.join(', ')}`, USAGE);
      }
      return {
        kind: 'set-action', server, json, mac: mac(args[0]!), action: action as BootAction,
        token: values.token ?? env.TROWEL_TOKEN, stateDir: values['state-dir'] ?? '/var/lib/trowel',
      };
    }
    case 'set-plan': {
      expect(1);
      const fields = { template: values.template, version: values.version, arch: values.arch, disk: values.disk, layout: values.layout, wipe: values.wipe, hostname: values.hostname, mode: values.mode };
      let plan: MachinePlan;
      try {
        plan = parsePlan(Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
      } catch (e) {
        throw new UsageError((e as Error).message.replace(/^Cannot accept the plan: /, '--'), USAGE);
      }
      return { kind: 'set-plan', server, json, mac: mac(args[0]!), plan, token: values.token ?? env.TROWEL_TOKEN, stateDir: values['state-dir'] ?? '/var/lib/trowel' };
    }
    case 'events':
      expect(1);
      return { kind: 'events', server, json, mac: mac(args[0]!) };
    case undefined:
      throw new UsageError('missing subcommand', USAGE);
    default:
      throw new UsageError(`unknown subcommand "${sub}"`, USAGE);
  }
}

/** @private The token file exists only on the server; elsewhere say how else to give one. */
function adminTokenFromFile(stateDir: string): string {
  try {
    return readAdminToken(join(stateDir, ADMIN_TOKEN_FILE));
  } catch (e) {
    throw new TrowelError('EADMINTOKEN', (e as Error).message, { hint: 'give --token, set TROWEL_TOKEN, or run this on the server', cause: e });
  }
}

/** One line per machine, fitted to 79 columns (the hostname is cut to fit). */
export function formatMachineTable(machines: readonly MachineView[], now: number): string {
  if (machines.length === 0) return 'No machines yet: a machine appears here when it first PXE-boots.\n';
  const rows = machines.map((m) => [m.mac, m.ip ?? '-', m.action, m.state, ago(m.lastSeen, now), m.hostname ?? '-']);
  const header = ['MAC', 'IP', 'ACTION', 'STATE', 'SEEN', 'HOSTNAME'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fixed = widths.slice(0, -1).reduce((a, w) => a + w + 2, 0);
  widths[widths.length - 1] = Math.max(8, Math.min(widths.at(-1)!, 79 - fixed));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? fit(c, widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}

/** `show`: one "key  value" line per field. */
export function formatMachine(m: MachineView, now: number): string {
  const fields: [string, string][] = [
    ['mac', m.mac],
    ['hostname', m.hostname ?? '-'],
    ['ip', m.ip ?? '-'],
    ['arch', m.arch === null ? '-' : `${m.arch}${ARCH_NAMES[m.arch] ? ` (${ARCH_NAMES[m.arch]})` : ''}`],
    ['uuid', m.uuid ?? '-'],
    ['action', m.action],
    ['state', m.state],
    ['first seen', `${m.firstSeen} (${ago(m.firstSeen, now)})`],
    ['last seen', `${m.lastSeen} (${ago(m.lastSeen, now)})`],
  ];
  return fields.map(([k, v]) => `${k.padEnd(11)}${v}\n`).join('');
}

/** The hardware the machine reported from its console (`trowel tui`), indented under "hardware". */
export function formatInventory(inventory: Inventory | null, receivedAt: string | null): string {
  if (!inventory) return `${'hardware'.padEnd(11)}not reported (send it from the machine's console: trowel tui, Hardware summary)\n`;
  return `${'hardware'.padEnd(11)}reported ${receivedAt ?? '?'}\n` + inventoryLines(inventory).map((l) => `  ${l}\n`).join('');
}

/** DHCP option 93 client architectures (RFC 4578, IANA "Processor Architecture Types"). */
const ARCH_NAMES: Record<number, string> = {
  0: 'x86 BIOS', 6: 'x86 UEFI', 7: 'x86-64 UEFI', 9: 'x86-64 UEFI', 10: 'ARM32 UEFI', 11: 'ARM64 UEFI',
  15: 'x86 UEFI HTTP', 16: 'x86-64 UEFI HTTP', 18: 'ARM32 UEFI HTTP', 19: 'ARM64 UEFI HTTP',
};

/** @private "12s ago", "5m ago", "3h ago", "2d ago". */
function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(s)) return '?';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** @private */
function fit(s: string, width: number): string {
  return s.length <= width ? s : s.slice(0, width - 1) + '…';
}

/** @private */
function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** Step events as a table, log lines indented under them. */
export function formatEvents(events: readonly MachineEvent[]): string {
  if (events.length === 0) return 'No events yet: the machine reports here while it provisions.\n';
  return events
    .map((e) => {
      const time = e.at.slice(11, 19);
      if (e.kind === 'log') return `${time}    ${e.line ?? ''}`;
      const detail = [e.bytes !== undefined ? `${e.bytes} bytes` : '', e.message ?? '', e.error ? `error: ${e.error}` : ''].filter(Boolean).join(', ');
      return `${time} ${(e.step ?? '').padEnd(10)} ${(e.state ?? '').padEnd(8)} ${detail}`.trimEnd();
    })
    .join('\n') + '\n';
}
