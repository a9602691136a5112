/**
 * The three TFTP servers compared, each started in the server namespace on
 * port 69 over the same root. Their command lines live here, once, so the
 * README and the results can quote them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Rig } from './rig.ts';
import { startServer, type ServerProcess } from './server-process.ts';
import { startTrowel, type TrowelBuild } from './trowel.ts';

export interface TftpPeer {
  name: string;
  /** How it is started, for the results file. */
  describe(root: string): string;
  start(ctx: TftpStart): Promise<ServerProcess>;
}

export interface TftpStart {
  rig: Rig;
  /** The TFTP root every server serves. */
  root: string;
  /** A scratch directory for this server's config and state. */
  workDir: string;
  trowel: TrowelBuild;
}

const dnsmasqArgs = (root: string) => [
  // Foreground without debug mode (-d would also skip the privilege drop a real install does).
  '--keep-in-foreground', '--conf-file=/dev/null', '--pid-file=', '--port=0', '--log-facility=-',
  '--enable-tftp', `--tftp-root=${root}`,
];

const tftpdArgs = (rig: Rig, root: string) => ['--foreground', '--secure', '--address', `${rig.serverAddress}:69`, root];

export const TFTP_PEERS: readonly TftpPeer[] = [
  {
    name: 'trowel',
    describe: (root) => `trowel serve with \`listen: { address: 10.x.0.1 }, dhcp: { mode: off }, tftp: { root: ${root}, port: 69 }\``,
    start: ({ rig, root, workDir, trowel }) => {
      const dir = join(workDir, 'trowel');
      mkdirSync(dir, { recursive: true });
      return startTrowel(rig.server, trowel, dir, [
        `listen: { interface: ${rig.interfaceName}, address: ${rig.serverAddress} }`,
        'dhcp: { mode: off }',
        `tftp: { enabled: true, root: ${JSON.stringify(root)}, port: 69 }`,
        `http: { port: 8080, root: ${JSON.stringify(join(dir, 'http'))} }`,
        `stateDir: ${JSON.stringify(join(dir, 'state'))}`,
        '',
      ].join('\n'));
    },
  },
  {
    name: 'dnsmasq',
    describe: (root) => `\`dnsmasq ${dnsmasqArgs(root).join(' ')}\``,
    start: ({ rig, root }) => startServer(rig.server, 'dnsmasq', 'dnsmasq', dnsmasqArgs(root), { readyUdpPort: 69 }),
  },
  {
    name: 'tftpd-hpa',
    describe: (root) => `\`in.tftpd --foreground --secure --address 10.x.0.1:69 ${root}\``,
    start: ({ rig, root }) => startServer(rig.server, 'tftpd-hpa', 'in.tftpd', tftpdArgs(rig, root), { readyUdpPort: 69 }),
  },
];
