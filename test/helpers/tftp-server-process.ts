/**
 * Runs the TFTP server as its own process, for integration tests that start
 * it inside a network namespace:
 *
 *   node test/helpers/tftp-server-process.ts '{"root":"/tmp/x","port":69,"bindAddress":"10.1.0.1"}'
 *
 * Prints `TFTP_READY <port>` on stdout once listening; log records go to
 * stderr as JSON lines. A request for `dynamic/<name>` is answered by the
 * dynamicFile callback with text naming the client, to test that path
 * through real clients. SIGTERM closes the server and exits.
 */
import { createLogger } from '../../src/log/logger.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { startTftpServer } from '../../src/tftp/index.ts';

interface ProcessOptions {
  root: string;
  port: number;
  bindAddress?: string;
  maxBlockSize?: number;
  maxWindowSize?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ProcessOptions;
const metrics = new MetricsRegistry();
const server = await startTftpServer({
  ...options,
  metrics,
  log: createLogger('tftp', (r) => process.stderr.write(JSON.stringify(r) + '\n'), 0),
  dynamicFile: (path, client) => (path.startsWith('dynamic/') ? Buffer.from(`dynamic ${path} for ${client.address}\n`) : undefined),
});
process.stdout.write(`TFTP_READY ${server.port}\n`);

process.on('SIGTERM', () => {
  void server.close().then(() => {
    process.stderr.write(JSON.stringify({ event: 'metrics', text: metrics.render() }) + '\n');
    process.exit(0);
  });
});
