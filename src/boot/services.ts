/**
 * `trowel serve` as a library: starts DHCP (or proxyDHCP), TFTP and HTTP
 * from one config, sharing one database, machine registry and metrics
 * registry, and stops them together. If any service fails to start, the
 * ones already running are stopped before the error propagates.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrowelConfig } from '../config/index.ts';
import { startDhcpServer } from '../dhcp/index.ts';
import { loadOrCreateAdminToken, startHttpServer } from '../http/index.ts';
import type { Logger } from '../log/logger.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { MachineStore, openDatabase } from '../store/index.ts';
import { startTftpServer } from '../tftp/index.ts';
import { pxelinuxConfigFor } from './pxelinux-config.ts';
import { TrowelError } from '../errors.ts';
import { checkListenAddress } from './listen-check.ts';

export interface RunningServices {
  readonly httpPort: number;
  readonly tftpPort: number | undefined;
  readonly dhcpPorts: number[];
  readonly adminToken: string;
  stop(): Promise<void>;
}

export async function startServices(config: TrowelConfig, log: Logger): Promise<RunningServices> {
  checkListenAddress(config.listen);
  for (const dir of [config.stateDir, config.tftp.root, config.http.root]) mkdirSync(dir, { recursive: true });
  const db = openDatabase(join(config.stateDir, 'trowel.db'));
  const machines = new MachineStore(db);
  const metrics = new MetricsRegistry();
  const adminToken = loadOrCreateAdminToken(config.stateDir);
  const stops: (() => Promise<void>)[] = [async () => db.close()];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch((e: unknown) => log.error('serve.stop_failed', { error: String(e) }));
  };

  try {
    const http = await listening('HTTP', config.http.port, () =>
      startHttpServer({ config, machines, metrics, log: log.child('http'), adminToken }),
    );
    stops.push(() => http.close());

    let tftpPort: number | undefined;
    if (config.tftp.enabled) {
      const tftp = await listening('TFTP', config.tftp.port, () =>
        startTftpServer({
          root: config.tftp.root,
          port: config.tftp.port,
          metrics,
          log: log.child('tftp'),
          dynamicFile: (path) => pxelinuxConfigFor(path, machines, config),
        }),
      );
      stops.push(() => tftp.close());
      tftpPort = tftp.port;
    }

    const dhcp = await listening('DHCP', config.dhcp.port, () =>
      startDhcpServer({
        config: config.dhcp,
        boot: { serverAddress: config.listen.address, httpPort: config.http.port },
        db,
        machines,
        metrics,
        log: log.child('dhcp'),
      }),
    );
    stops.push(() => dhcp.close());

    return { httpPort: http.port, tftpPort, dhcpPorts: dhcp.ports, adminToken, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Turns a bind failure into one sentence naming the service and port. */
async function listening<T>(service: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new TrowelError('EADDRINUSE', `Cannot start ${service}: port ${port} is already in use`, {
        hint: 'stop the other server (dnsmasq, tftpd-hpa, ...) or change the port in trowel.yaml',
      });
    }
    if (code === 'EACCES') {
      throw new TrowelError('EACCES', `Cannot start ${service}: binding port ${port} needs root or CAP_NET_BIND_SERVICE`);
    }
    throw e;
  }
}
