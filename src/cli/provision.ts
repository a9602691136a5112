/**
 * `trowel provision`: the unattended client the PXE image runs
 * (docs/provisioning.md). Reads the kernel command line, runs the pipeline,
 * prints each step on stderr, forwards its log to the server, and reboots on
 * success. Exit status 1 on failure, after reporting it: the image's init
 * then drops to a shell instead of rebooting into a loop. Wiring only: the
 * work is runProvision().
 */
import { readFile } from 'node:fs/promises';
import { describeError } from '../errors.ts';
import { createLogger, stdoutSink, type LogSink } from '../log/logger.ts';
import { forwardLog, type LogForwarder } from '../provision/log-forwarder.ts';
import { parseCmdline } from '../provision/cmdline.ts';
import { rebootMachine } from '../sys/power.ts';
import { runProvision, type ProvisionResult } from '../provision/run-provision.ts';
import { ProvisionServer, type ProvisionEvent } from '../provision/server-client.ts';
import { formatBytes } from '../stream/progress.ts';
import { parseCommandArgs } from './args.ts';
import type { CommandIo } from './machines.ts';

const USAGE = `usage: trowel provision [--dry-run] [--cmdline "ARGS"] [--sysfs DIR] [--no-reboot]

Provisions this machine as its kernel arguments and the server's plan say:
choose a disk, partition it, receive the template, make it boot, reboot.

options:
  --dry-run         print the plan, the chosen disk and the sfdisk script; write nothing
  --cmdline "ARGS"  kernel arguments to use instead of /proc/cmdline
  --sysfs DIR       read disks from this sysfs tree instead of /sys
  --no-reboot       stop after reporting completion instead of rebooting`;

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  cmdline: { type: 'string' },
  sysfs: { type: 'string' },
  'no-reboot': { type: 'boolean' },
} as const;

const processIo: CommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

export async function provisionCommand(argv: string[], io: CommandIo = processIo, logSink: LogSink = stdoutSink): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS, USAGE);
  if (values.help) {
    io.stdout(USAGE + '\n');
    return 0;
  }
  const cmdline = values.cmdline ?? (await readFile('/proc/cmdline', 'utf8'));
  const dryRun = values['dry-run'] === true;
  let forwarder: LogForwarder | undefined;
  let server: ProvisionServer | undefined;
  try {
    const { args } = parseCmdline(cmdline);
    if (args.server && args.mac && args.token) server = new ProvisionServer(args.server, args.mac, args.token);
    if (server && !dryRun) forwarder = forwardLog(server, { next: logSink });
    const log = createLogger('provision', forwarder?.sink ?? logSink);
    const result = await runProvision({
      cmdline,
      server,
      sysfsRoot: values.sysfs,
      dryRun,
      log,
      onEvent: (e) => io.stderr(formatEvent(e) + '\n'),
      // The last log lines go out before the machine goes down.
      reboot: values['no-reboot'] ? false : async () => {
        await forwarder?.close();
        await rebootMachine(log);
      },
    });
    if (dryRun) io.stdout(formatDryRun(result));
    return 0;
  } catch (e) {
    io.stderr(`trowel provision: ${describeError(e)}\n`);
    return 1;
  } finally {
    await forwarder?.close();
  }
}

/** One line per step event: "[receive] progress 12.0 MiB / 30.0 MiB 4.00 MiB/s". */
export function formatEvent(e: ProvisionEvent): string {
  const amount = e.bytes === undefined ? '' : ` ${formatBytes(e.bytes)}${e.totalBytes ? ` / ${formatBytes(e.totalBytes)}` : ''}`;
  const rate = e.rate === undefined ? '' : ` ${formatBytes(e.rate)}/s`;
  const text = e.error ?? e.message;
  return `[${e.step}] ${e.state}${amount}${rate}${text ? `: ${text}` : ''}`;
}

/** What a dry run would do, for a person to read before running it for real. */
export function formatDryRun(r: ProvisionResult): string {
  const p = r.plan;
  const lines = [
    `template  ${p.template} ${p.arch} ${p.version}`,
    `hostname  ${p.hostname}`,
    `disk      ${r.disk.path} (${formatBytes(r.disk.sizeBytes)} ${r.disk.transport}${r.disk.model ? `, ${r.disk.model}` : ''}${r.disk.serial ? `, serial ${r.disk.serial}` : ''})`,
    `layout    ${p.layout}${p.wipe ? ', wipe allowed' : ''}`,
  ];
  if (r.partitions) {
    lines.push('partitions', ...r.partitions.partitions.map((q) => `  ${q.path}  ${q.role}${q.sizeBytes ? `  ${formatBytes(q.sizeBytes)}` : '  rest of the disk'}`));
    lines.push(`sfdisk script for ${r.partitions.disk}:`, ...r.partitions.script.trimEnd().split('\n').map((l) => `  ${l}`));
  } else {
    lines.push('partitions  kept (layout keep)');
  }
  lines.push('nothing was written (dry run)');
  return lines.join('\n') + '\n';
}
