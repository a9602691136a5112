/**
 * The two DHCP servers compared, each authoritative for the same /16 pool
 * and started fresh (empty lease store) for every run. dnsmasq gets
 * `--no-ping` because trowel sends no ICMP probe before offering either
 * (RFC 2131 4.4.1 says SHOULD; both skip it here), and a lease limit as big
 * as the pool (its default, 1000, would refuse most of the run).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Rig } from './rig.ts';
import { startServer, type ServerProcess } from './server-process.ts';
import { startTrowel, type TrowelBuild } from './trowel.ts';

export interface Pool {
  first: string;
  last: string;
  netmask: string;
}

export interface DhcpStart {
  rig: Rig;
  pool: Pool;
  /** This run's scratch directory: config, leases. */
  dir: string;
  trowel: TrowelBuild;
}

export interface DhcpPeer {
  name: string;
  describe(pool: Pool): string;
  start(ctx: DhcpStart): Promise<ServerProcess>;
  /** Leases the server has on disk after it stopped: checks that every ACK was persisted. */
  persistedLeases(dir: string): number;
}

const POOL_SIZE_LIMIT = 70_000;

const dnsmasqArgs = (pool: Pool, dir: string, router: string) => [
  '--keep-in-foreground', '--conf-file=/dev/null', '--pid-file=', '--port=0', '--log-facility=-',
  `--dhcp-range=${pool.first},${pool.last},${pool.netmask},1h`, '--dhcp-authoritative',
  `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`, `--dhcp-lease-max=${POOL_SIZE_LIMIT}`, '--no-ping',
  `--dhcp-option=option:router,${router}`, `--dhcp-option=option:dns-server,${router}`,
];

export const DHCP_PEERS: readonly DhcpPeer[] = [
  {
    name: 'trowel',
    describe: (pool) => `trowel serve with \`dhcp: { mode: authoritative, range: ${pool.first}-${pool.last}, netmask: ${pool.netmask}, leaseTime: 1h, router, dns }\`, \`tftp: { enabled: false }\`, leases in its SQLite store (WAL)`,
    start: ({ rig, pool, dir, trowel }) => {
      mkdirSync(dir, { recursive: true });
      return startTrowel(rig.server, trowel, dir, [
        `listen: { interface: ${rig.interfaceName}, address: ${rig.serverAddress} }`,
        `dhcp: { mode: authoritative, range: ${pool.first}-${pool.last}, netmask: ${pool.netmask}, leaseTime: 1h, router: ${rig.serverAddress}, dns: [${rig.serverAddress}] }`,
        'tftp: { enabled: false }',
        `http: { port: 8080, root: ${JSON.stringify(join(dir, 'http'))} }`,
        `stateDir: ${JSON.stringify(join(dir, 'state'))}`,
        '',
      ].join('\n'));
    },
    persistedLeases: (dir) => {
      const db = new DatabaseSync(join(dir, 'state', 'trowel.db'), { readOnly: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM leases WHERE state = 'bound'").get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'dnsmasq',
    describe: (pool) => `\`dnsmasq ${dnsmasqArgs(pool, 'DIR', '10.x.0.1').join(' ')}\``,
    start: ({ rig, pool, dir }) => {
      mkdirSync(dir, { recursive: true });
      return startServer(rig.server, 'dnsmasq', 'dnsmasq', dnsmasqArgs(pool, dir, rig.serverAddress), { readyUdpPort: 67 });
    },
    persistedLeases: (dir) => {
      const file = join(dir, 'dnsmasq.leases');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length : 0;
    },
  },
];
