/**
 * `trowel.yaml`: the server's whole configuration. Every key is documented
 * in docs/configuration.md; unknown keys and bad values are refused with
 * file:line:col. Paths are resolved against the config file's folder.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { parseMcast, type McastConfig } from './mcast-config.ts';
import { ConfigError, Section } from './section.ts';
import { ipv4ToNumber } from '../wire/ipv4.ts';

export const DhcpMode = { authoritative: 'authoritative', proxy: 'proxy', off: 'off' } as const;
export type DhcpMode = (typeof DhcpMode)[keyof typeof DhcpMode];

export interface Reservation {
  mac: string;
  address: string;
  hostname?: string;
}

export interface DhcpConfig {
  mode: DhcpMode;
  /** First and last address of the dynamic pool (authoritative mode). */
  range?: { first: string; last: string };
  netmask: string;
  leaseTimeSeconds: number;
  router?: string;
  dns: string[];
  domain?: string;
  reservations: Reservation[];
  port: number;
  proxyPort: number;
}

export interface TrowelConfig {
  /** Where the config came from, for messages. */
  file: string;
  listen: { interface?: string; address: string };
  dhcp: DhcpConfig;
  tftp: { enabled: boolean; root: string; port: number };
  http: { port: number; root: string };
  boot: { kernel: string; initrd: string; args: string };
  /** Multicast template sessions (mcast-config.ts). */
  mcast: McastConfig;
  stateDir: string;
}

const TOP_KEYS = ['listen', 'dhcp', 'tftp', 'http', 'boot', 'mcast', 'stateDir'] as const;

export function loadConfigFile(file: string): TrowelConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`Cannot read config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file = 'trowel.yaml'): TrowelConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = { file, lines };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const { line, col } = lines.linePos(e.pos[0]);
    throw new ConfigError(`${file}:${line}:${col}: ${e.message.split('\n')[0]}`);
  }
  const root = new Section(doc.contents, '', source).allowKeys(TOP_KEYS);
  const base = dirname(resolve(file));
  const stateDir = resolve(base, root.string('stateDir', '/var/lib/trowel'));

  const listen = root.section('listen').allowKeys(['interface', 'address']);
  const tftp = root.section('tftp').allowKeys(['enabled', 'root', 'port']);
  const http = root.section('http').allowKeys(['port', 'root']);
  const boot = root.section('boot').allowKeys(['kernel', 'initrd', 'args']);

  return {
    file,
    listen: { interface: listen.optionalString('interface'), address: listen.ipv4('address') },
    dhcp: parseDhcp(root.section('dhcp')),
    tftp: {
      enabled: tftp.boolean('enabled', true),
      root: resolve(base, tftp.string('root', `${stateDir}/tftp`)),
      port: tftp.integer('port', 69, 1, 65535),
    },
    http: { port: http.integer('port', 8080, 1, 65535), root: resolve(base, http.string('root', `${stateDir}/http`)) },
    boot: {
      kernel: boot.string('kernel', 'vmlinuz'),
      initrd: boot.string('initrd', 'initramfs'),
      args: boot.string('args', ''),
    },
    mcast: parseMcast(root.section('mcast')),
    stateDir,
  };
}

function parseDhcp(s: Section): DhcpConfig {
  s.allowKeys(['mode', 'range', 'netmask', 'leaseTime', 'router', 'dns', 'domain', 'reservations', 'port', 'proxyPort']);
  const mode = s.oneOf('mode', Object.values(DhcpMode), DhcpMode.proxy);
  let range: DhcpConfig['range'];
  if (s.has('range')) {
    const text = s.string('range');
    const m = /^\s*([\d.]+)\s*-\s*([\d.]+)\s*$/.exec(text);
    let parsed: { first: string; last: string } | undefined;
    try {
      if (m && ipv4ToNumber(m[1]!) <= ipv4ToNumber(m[2]!)) parsed = { first: m[1]!, last: m[2]! };
    } catch {
      parsed = undefined;
    }
    if (!parsed) throw s.error(undefined, `dhcp.range must look like 10.0.0.100-10.0.0.199 (first <= last), not "${text}"`);
    range = parsed;
  } else if (mode === DhcpMode.authoritative) {
    throw s.error(undefined, 'dhcp.range is required when dhcp.mode is authoritative');
  }
  const reservations = s.list('reservations', (r) => {
    r.allowKeys(['mac', 'address', 'hostname']);
    return { mac: r.mac('mac'), address: r.ipv4('address'), hostname: r.optionalString('hostname') };
  });
  const seen = new Set<string>();
  for (const r of reservations) {
    if (seen.has(r.mac)) throw s.error(undefined, `dhcp.reservations lists ${r.mac} twice`);
    seen.add(r.mac);
  }
  return {
    mode,
    range,
    netmask: s.ipv4('netmask', '255.255.255.0'),
    leaseTimeSeconds: s.durationSeconds('leaseTime', '1h'),
    router: s.optionalIpv4('router'),
    dns: s.ipv4List('dns'),
    domain: s.optionalString('domain'),
    reservations,
    port: s.integer('port', 67, 1, 65535),
    proxyPort: s.integer('proxyPort', 4011, 1, 65535),
  };
}
