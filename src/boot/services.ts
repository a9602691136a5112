/**
 * `trowel serve` as a library: starts DHCP (or proxyDHCP), TFTP and HTTP
 * from one config, sharing one database, machine registry and metrics
 * registry, and stops them together. If any service fails to start, the
 * ones already running are stopped before the error propagates.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TrowelConfig } from '../config/index.ts';
import { startDhcpServer } from '../dhcp/index.ts';
import { loadOrCreateAdminToken, startHttpServer } from '../http/index.ts';
import type { Logger } from '../log/logger.ts';
import { McastSessions, runMcastSender } from '../mcast-server/index.ts';
import { MetricsRegistry } from '../metrics/registry.ts';
import { TemplatePool } from '../pool/index.ts';
import { EventStore, MachineStore, openDatabase } from '../store/index.ts';
import { loadSigningKey, StreamCache } from '../stream/index.ts';
import { startTftpServer } from '../tftp/index.ts';
import { grubConfigFor } from './grub-config.ts';
import { pxelinuxConfigFor } from './pxelinux-config.ts';
import { describeError, TrowelError } from '../errors.ts';
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
  const events = new EventStore(db);
  const metrics = new MetricsRegistry();
  const adminToken = loadOrCreateAdminToken(config.stateDir);
  const stops: (() => Promise<void>)[] = [async () => db.close()];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch((e: unknown) => log.error('serve.stop_failed', { error: String(e) }));
  };

  try {
    const { pool, streams } = await openTemplates(config.stateDir, metrics, log.child('templates'));
    // Sessions are sent from the stream cache's files, so they need it; mcast.enabled decides whether machines get them.
    const mcast = streams
      ? new McastSessions({ config: config.mcast, interfaceAddress: config.listen.address, streams, runSender: runMcastSender, metrics, log: log.child('mcast') })
      : undefined;
    if (mcast) stops.push(() => mcast.close());
    const http = await listening('HTTP', config.http.port, () =>
      startHttpServer({ config, machines, events, metrics, log: log.child('http'), adminToken, pool, streams, mcast }),
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
          dynamicFile: (path) => pxelinuxConfigFor(path, machines, config) ?? grubConfigFor(path, machines, config),
        }),
      );
      stops.push(() => tftp.close());
      tftpPort = tftp.port;
    }

    const dhcp = await listening('DHCP', config.dhcp.port, () =>
      startDhcpServer({
        config: config.dhcp,
        boot: {
          serverAddress: config.listen.address,
          httpPort: config.http.port,
          netboot: (mac) => machines.get(mac)?.action !== 'local',
          // Looked up per offer, so `trowel setup-tftp` takes effect without a restart.
          tftpHas: (file) => config.tftp.enabled && existsSync(join(config.tftp.root, file)),
        },
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

/**
 * The template pool at `<stateDir>/pool` and its signed stream cache at
 * `<stateDir>/cache`. Both are optional: a boot server without templates
 * still serves PXE, so a missing or unusable pool, or a missing key, is a
 * warning and the template routes answer 503 saying why. A key that exists
 * but cannot be read is a startup error: the operator meant to have one.
 */
async function openTemplates(stateDir: string, metrics: MetricsRegistry, log: Logger): Promise<{ pool?: TemplatePool; streams?: StreamCache }> {
  const root = join(stateDir, 'pool');
  if (!existsSync(root)) {
    log.warn('pool_missing', { root, hint: `create a btrfs filesystem or subvolume at ${root} to serve templates` });
    return {};
  }
  let pool: TemplatePool;
  try {
    pool = await TemplatePool.open(root, { log });
  } catch (e) {
    if (!(e instanceof TrowelError)) throw e;
    log.warn('pool_unavailable', { root, error: describeError(e) });
    return {};
  }
  try {
    const signingKey = await loadSigningKey(stateDir);
    log.info('pool_ready', { root, keyId: signingKey.keyId });
    return { pool, streams: new StreamCache({ cacheDir: join(stateDir, 'cache'), pool, signingKey, log, metrics }) };
  } catch (e) {
    if (!(e instanceof TrowelError) || e.code !== 'ENOKEY') throw e;
    log.warn('signing_key_missing', { root, error: describeError(e) });
    return { pool };
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
