/**
 * `trowel serve --config trowel.yaml`: runs the boot services until SIGTERM
 * or SIGINT. Prints one `serve.ready` log record once every listener is up
 * (tests and the lab wait for it) and `serve.stopped` after a clean stop.
 */
import { startServices } from '../boot/services.ts';
import { loadConfigFile } from '../config/index.ts';
import { createLogger } from '../log/logger.ts';
import { VERSION } from '../version.ts';
import { parseCommandArgs } from './args.ts';

const USAGE = 'usage: trowel serve [--config /etc/trowel/trowel.yaml]';

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { config: { type: 'string', short: 'c' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n\nEvery key of trowel.yaml is described in docs/configuration.md.\n`);
    return 0;
  }
  const config = loadConfigFile(values.config ?? '/etc/trowel/trowel.yaml');
  const log = createLogger('serve');
  const services = await startServices(config, log);
  log.info('serve.ready', {
    version: VERSION,
    address: config.listen.address,
    dhcp: config.dhcp.mode,
    dhcpPorts: services.dhcpPorts,
    tftpPort: services.tftpPort,
    httpPort: services.httpPort,
  });

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info('serve.stopping', { signal });
  await services.stop();
  log.info('serve.stopped');
  return 0;
}
