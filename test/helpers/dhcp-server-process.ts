/**
 * Runs only trowel's DHCP server from a trowel.yaml, for tests that put it in
 * a network namespace: `node dhcp-server-process.ts <trowel.yaml>`.
 * Logs JSON lines on stdout and a `dhcp.ready` record with the bound ports;
 * SIGTERM closes the sockets and the database, then exits 0.
 */
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/index.ts';
import { startDhcpServer } from '../../src/dhcp/index.ts';
import { createLogger } from '../../src/log/logger.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { MachineStore, openDatabase } from '../../src/store/index.ts';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: dhcp-server-process.ts <trowel.yaml>\n');
  process.exit(2);
}
const config = loadConfigFile(file);
const log = createLogger('dhcp');
const db = openDatabase(join(config.stateDir, 'trowel.db'));
const server = await startDhcpServer({
  config: config.dhcp,
  boot: { serverAddress: config.listen.address, httpPort: config.http.port },
  db,
  machines: new MachineStore(db),
  metrics: new MetricsRegistry(),
  log,
});
log.info('dhcp.ready', { ports: server.ports });

process.once('SIGTERM', () => {
  void server.close().then(() => {
    db.close();
    log.info('dhcp.stopped');
    process.exit(0);
  });
});
