/**
 * `trowel top`: a live dashboard of a trowel server (machines with their
 * step, progress and rate, throughput, recent events, DHCP/TFTP/HTTP
 * counters), following its event stream. The terminal code is loaded only
 * when this command runs, so other commands never load blessed.
 */
import { TrowelError } from '../errors.ts';
import { eventStreamUrl } from '../dashboard/stream-client.ts';
import { parseCommandArgs } from './args.ts';

const USAGE = `usage: trowel top [--server URL]

options:
  --server URL  trowel server (default $TROWEL_SERVER, else http://127.0.0.1:8080)

Follows the server's live event stream (ws://<server>/api/v1/events) and
reconnects by itself when the server restarts. Keys: q quits, Up/Down scroll
the machine table.`;

export async function topCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseCommandArgs(argv, { server: { type: 'string' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const server = values.server ?? env['TROWEL_SERVER'] ?? 'http://127.0.0.1:8080';
  eventStreamUrl(server); // a bad URL is a usage error before the screen takes the terminal
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    throw new TrowelError('ENOTTY', 'Cannot show the dashboard: stdin and stdout must be a terminal', {
      hint: 'run trowel top in a terminal; for scripts, read GET /api/v1/machines or the event stream',
    });
  }
  const { runTop } = await import('../../tui/top/run-top.ts');
  return runTop({ server });
}
