/**
 * `trowel tui`: the technician's console (docs/console.md). Finds the
 * server, then hands the terminal to the console: the flow is
 * src/console, the drawing tui/console, the work runProvision. Wiring only.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConsoleSession, keyIntent, readLeaseServer, realServices, viewOf, type ServerSource } from '../console/index.ts';
import { parseCmdline } from '../provision/cmdline.ts';
import { publicKeyBase64, readPublicKeyFile } from '../stream/keys.ts';
import { parseCommandArgs } from './args.ts';

const USAGE = `usage: trowel tui [--server URL] [--key FILE] [--include-disk DEV]... [--no-reboot] [--cmdline "ARGS"] [--sysfs DIR]

The technician's console: choose a disk, a layout, a template and a
transport, confirm, and watch this machine being provisioned. Keyboard only;
the help line at the bottom lists the keys of each screen.

options:
  --server URL        the trowel server (default: trowel.server= on the kernel
                      command line, else the DHCP lease's next-server, else ask)
  --key FILE          the server's public key (PEM, from "trowel keys show"),
                      when the kernel command line has no trowel.key=
  --include-disk DEV  also offer this disk although its kind is normally
                      skipped (a loop device, unusual hardware); repeatable
  --no-reboot         never restart or power off this machine (trying it out, tests)
  --cmdline "ARGS"    kernel arguments to use instead of /proc/cmdline
  --sysfs DIR         read disks and hardware from this sysfs tree instead of /sys`;

const OPTIONS = {
  server: { type: 'string' },
  key: { type: 'string' },
  'include-disk': { type: 'string', multiple: true },
  'no-reboot': { type: 'boolean' },
  cmdline: { type: 'string' },
  sysfs: { type: 'string' },
} as const;

export async function tuiCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS, USAGE);
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  let cmdline = values.cmdline ?? (await readFile('/proc/cmdline', 'utf8').catch(() => ''));
  if (values.key) cmdline += ` trowel.key=${publicKeyBase64(await readPublicKeyFile(values.key))}`;
  const args = parseCmdline(cmdline).args;
  const lease = values.server || args.server ? undefined : await readLeaseServer();
  const [server, source]: [string | undefined, ServerSource] = values.server ? [values.server, 'option']
    : args.server ? [args.server, 'kernel'] : lease ? [lease, 'dhcp'] : [undefined, 'none'];

  // Loaded only now: blessed takes over the terminal as soon as it starts.
  const { createConsoleScreen } = await import('../../tui/console/console-screen.ts');
  return new Promise<number>((resolve) => {
    let session: ConsoleSession | undefined = undefined;
    const screen = createConsoleScreen((name, ch) => {
      if (!session) return;
      const intent = keyIntent(session.state, name, ch);
      if (intent) session.dispatch(intent);
    });
    const redraw = () => {
      if (session) screen.draw(viewOf(session.state, screen.size(), screen.charset));
    };
    const services = realServices({
      cmdline,
      includeDisks: (values['include-disk'] ?? []).map((d) => basename(d)),
      sysfsRoot: values.sysfs,
      noReboot: values['no-reboot'] === true,
      suspend: (run) => screen.suspend(run),
      quit: () => {
        screen.destroy();
        resolve(0);
      },
    });
    session = new ConsoleSession({ server, source, canReport: Boolean(args.mac && args.token) }, services);
    session.onChange(redraw);
    screen.onResize(redraw);
    redraw();
    session.start();
  });
}
