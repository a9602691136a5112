#!/usr/bin/env node
/**
 * `trowel <command>`: wiring only. Each command lives in its own file and
 * returns an exit code; errors a user can meet are printed as one line.
 */
import { describeError, TrowelError } from '../errors.ts';
import { keysCommand } from './keys.ts';
import { labCommand } from './lab.ts';
import { machinesCommand } from './machines.ts';
import { mcastCommand } from './mcast.ts';
import { provisionCommand } from './provision.ts';
import { pullCommand } from './pull.ts';
import { serveCommand } from './serve.ts';
import { setupTftpCommand } from './setup-tftp.ts';
import { templateCommand } from './template.ts';
import { tuiCommand } from './tui.ts';
import { topCommand } from './top.ts';
import { VERSION } from '../version.ts';

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  serve: { summary: 'run DHCP/proxyDHCP, TFTP and HTTP boot services from trowel.yaml', run: serveCommand },
  machines: { summary: 'list machines, show one, or set its boot action (via the HTTP API)', run: machinesCommand },
  'setup-tftp': { summary: "copy Debian's iPXE and pxelinux boot files into a TFTP root", run: setupTftpCommand },
  template: { summary: 'publish, list, show, remove and receive OS templates (btrfs pool)', run: (a) => templateCommand(a) },
  keys: { summary: 'create or show the key that signs template manifests', run: (a) => keysCommand(a) },
  lab: { summary: 'a QEMU lab: trowel serve in a private network namespace and VMs that PXE-boot from it', run: labCommand },
  pull: { summary: "bring this pool up to date from another trowel server's pool", run: (a) => pullCommand(a) },
  mcast: { summary: 'send or receive one file over reliable multicast (send-file, receive-file)', run: (a) => mcastCommand(a) },
  top: { summary: 'a live dashboard of a server: machines, progress, throughput, events, counters', run: (a) => topCommand(a) },
  provision: { summary: 'provision this machine (PXE image): disk, partitions, template, bootloader, reboot', run: (a) => provisionCommand(a) },
  tui: { summary: "the technician's console: choose disk, layout, template; watch the provisioning", run: (a) => tuiCommand(a) },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: trowel <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun "trowel <command> --help" for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`trowel ${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`trowel: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof TrowelError && err.code === 'EUSAGE') {
      process.stderr.write(`trowel: ${err.message}\n\n${err.hint}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`trowel: ${describeError(err)}\n`);
    if (!(err instanceof TrowelError) && process.env.TROWEL_LOG === 'debug') console.error(err);
    process.exitCode = 1;
  },
);
