/**
 * The console's way out to the machine, its disks and the server: the real
 * ConsoleServices. Every step of provisioning is the pipeline's own
 * (runProvision, with the technician's choices); this file only wires it.
 */
import { writeSync } from 'node:fs';
import { mkdtemp, readdir, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blkidProbe } from '../disks/blkid.ts';
import { discoverDisks } from '../disks/discover.ts';
import { trowelPartitions } from '../disks/pick.ts';
import type { Disk } from '../disks/types.ts';
import { TrowelError } from '../errors.ts';
import { collectInventory } from '../inventory/collect.ts';
import type { Inventory } from '../inventory/types.ts';
import { createLogger, LogLevel, type Logger, type LogRecord, type LogSink } from '../log/logger.ts';
import { parseCmdline } from '../provision/cmdline.ts';
import { forwardLog } from '../provision/log-forwarder.ts';
import { rebootMachine } from '../sys/power.ts';
import { runProvision } from '../provision/run-provision.ts';
import { ProvisionServer } from '../provision/server-client.ts';
import { TemplateApi } from '../stream/template-api.ts';
import { runInteractive } from '../sys/interactive.ts';
import { powerOffMachine } from '../sys/power.ts';
import { run } from '../sys/run.ts';
import type { Choices } from './flow.ts';
import type { ConsoleServices } from './session.ts';

export interface ServiceOptions {
  /** The kernel command line: the machine's identity, pinned key and defaults. */
  cmdline: string;
  /** Kernel names of disks discovery normally skips (loop devices standing in for disks). */
  includeDisks: readonly string[];
  sysfsRoot?: string;
  /** Never restart or power off: Reboot and Power off say so instead (tests, trying it on a workstation). */
  noReboot: boolean;
  /** Hands the terminal to a program and takes it back (the renderer's suspend). */
  suspend(run: () => Promise<void>): Promise<void>;
  quit(): void;
  /** Where the pipeline's log goes besides the screen (default nowhere). */
  logSink?: LogSink;
}

const PRETTY_ROLES: Record<string, string> = { bios: 'BIOS boot', esp: 'ESP', pool: 'pool' };

export function realServices(options: ServiceOptions): ConsoleServices {
  const args = parseCmdline(options.cmdline).args;
  const identity = args.mac && args.token ? { mac: args.mac, token: args.token } : undefined;
  const machine = (server: string) => identity && new ProvisionServer(server, identity.mac, identity.token);
  const base = { cmdline: options.cmdline, sysfsRoot: options.sysfsRoot };
  const discover = () => discoverDisks({ sysfsRoot: options.sysfsRoot, include: options.includeDisks, probe: blkidProbe });
  const refuse = (what: string) => new TrowelError('ENOREBOOT', `Cannot ${what}: the console runs with --no-reboot`, { hint: 'leave with Ctrl-C' });

  return {
    connect: (url) => new TemplateApi(url, { timeoutMs: 10_000 }).listTemplates(),
    discoverDisks: () => discover(),
    readPool,
    packageDiff: (server, ref, parent) => new TemplateApi(server).packageDiff(ref, parent),
    async plan(choices: Choices) {
      // The dry run stops before the key is needed; a run that would fail for the lack of one is refused here.
      if (!args.key) {
        throw new TrowelError('ENOKEY', 'Cannot provision: no pinned key to verify the template with', { hint: 'boot with trowel.key=, or start trowel tui --key FILE' });
      }
      const r = await runProvision({ ...base, choices, dryRun: true, server: machine(choices.server!) });
      return {
        hostname: r.plan.hostname,
        partitions: r.partitions?.partitions.map((p) => ({ path: p.path, role: PRETTY_ROLES[p.role] ?? p.role, sizeBytes: p.sizeBytes })),
      };
    },
    async provision(choices, onEvent, onLog) {
      const server = machine(choices.server!);
      const screen: LogSink = (r) => {
        options.logSink?.(r);
        if (LogLevel[r.level] >= LogLevel.info) onLog(screenLine(r));
      };
      // The machine's log also goes to the server, as unattended runs do.
      const forwarder = server ? forwardLog(server, { next: screen }) : undefined;
      const log: Logger = createLogger('console', forwarder?.sink ?? screen, LogLevel.info);
      try {
        const r = await runProvision({ ...base, choices, server, log, onEvent, reboot: false });
        return { rootSubvolume: r.rootSubvolume ?? '', disk: r.disk.path };
      } finally {
        await forwarder?.close();
      }
    },
    // The same disks the Disks screen lists, the included ones too.
    collectHardware: async () => collectInventory({ sysfsRoot: options.sysfsRoot, disks: await discover() }),
    async sendInventory(server: string, inventory: Inventory) {
      const client = machine(server);
      if (!client) throw new TrowelError('ENOIDENTITY', 'Cannot send the inventory: this machine has no trowel.mac and trowel.token', { hint: 'boot it from the server' });
      await client.putInventory(inventory);
    },
    shell: () => options.suspend(async () => {
      writeSync(1, 'trowel: a shell; "exit" returns to the console.\n');
      await runInteractive('/bin/sh', [], { env: { ...process.env, PS1: 'trowel-console# ' } });
    }),
    reboot: async () => {
      if (options.noReboot) throw refuse('reboot');
      await rebootMachine();
    },
    powerOff: async () => {
      if (options.noReboot) throw refuse('power off');
      await powerOffMachine();
    },
    quit: options.quit,
  };
}

/** Mounts the disk's trowel pool read-only at its top level, lists it, and unmounts it. */
async function readPool(disk: Disk): Promise<string[]> {
  const found = trowelPartitions(disk);
  if (!found) return [];
  const dir = await mkdtemp(join(tmpdir(), 'trowel-console-pool-'));
  try {
    await run('mount', ['-t', 'btrfs', '-o', 'ro,subvolid=5', found.pool.path, dir]);
    try {
      return (await readdir(dir)).sort();
    } finally {
      await run('umount', [dir]).catch(() => run('umount', ['--lazy', dir]));
    }
  } catch (e) {
    throw new TrowelError('EPOOLREAD', `Cannot read the trowel pool on ${found.pool.path}: ${(e as Error).message}`, { cause: e });
  } finally {
    await rmdir(dir).catch(() => {});
  }
}

/** @private A log record as a short screen line: "warning: bootloader_skipped reason=...". */
function screenLine(r: LogRecord): string {
  const { ts: _ts, level, component: _c, event, ...fields } = r;
  const kv = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return [level === 'info' ? '' : `${level === 'warn' ? 'warning' : level}:`, event, ...kv].filter(Boolean).join(' ');
}
