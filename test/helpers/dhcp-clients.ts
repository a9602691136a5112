/**
 * Real DHCP clients for the integration tests, configured so they touch
 * nothing of the host: per-test lease and pid files, and a tiny script that
 * records what the client was told instead of configuring anything
 * (no /etc/resolv.conf, no routes, no /var/lib/dhcp).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../../src/lab/netns.ts';

/** Writes a client hook script that appends one `key=value ...` line per event to `<dir>/<name>.log`. */
function hookScript(dir: string, name: string, vars: string[]): string {
  const script = join(dir, `${name}.sh`);
  const line = vars.map((v) => `${v}=\${${v}}`).join(' ');
  writeFileSync(script, `#!/bin/sh\necho "event=\${1:-\${reason}} ${line}" >> ${dir}/${name}.log\nexit 0\n`, { mode: 0o755 });
  return script;
}

/** Every line the hook wrote, as key/value maps. */
export function hookEvents(dir: string, name: string): Record<string, string>[] {
  let text = '';
  try {
    text = readFileSync(join(dir, `${name}.log`), 'utf8');
  } catch {
    return [];
  }
  return text.trim().split('\n').filter(Boolean).map((l) => Object.fromEntries(l.split(' ').map((kv) => {
    const i = kv.indexOf('=');
    return [kv.slice(0, i), kv.slice(i + 1)];
  })));
}

export async function setMac(ns: Netns, ifName: string, mac: string): Promise<void> {
  await ns.ip('link', 'set', ifName, 'down');
  await ns.ip('link', 'set', ifName, 'address', mac);
  await ns.ip('link', 'set', ifName, 'up');
}

const UDHCPC_VARS = ['ip', 'subnet', 'router', 'dns', 'domain', 'hostname', 'lease', 'serverid', 'siaddr', 'boot_file'];

/** `busybox udhcpc` once in the foreground: quits after a lease (-q) or failure (-n). */
export async function udhcpc(ns: Netns, ifName: string, dir: string, name: string, extra: string[] = []): Promise<Record<string, string>> {
  const script = hookScript(dir, name, UDHCPC_VARS);
  await ns.exec('busybox', ['udhcpc', '-f', '-q', '-n', '-t', '5', '-T', '2', '-i', ifName, '-s', script, ...extra], { timeoutMs: 40_000 });
  const bound = hookEvents(dir, name).filter((e) => e.event === 'bound');
  if (bound.length === 0) throw new Error(`udhcpc ${name} got no lease: ${JSON.stringify(hookEvents(dir, name))}`);
  return bound.at(-1)!;
}

const DHCLIENT_VARS = ['new_ip_address', 'new_subnet_mask', 'new_routers', 'new_domain_name_servers', 'new_domain_name', 'new_host_name', 'new_dhcp_lease_time', 'new_dhcp_server_identifier'];

/**
 * ISC dhclient, one attempt (-1), with its own lease, pid and hook files;
 * after BOUND/REBOOT it daemonizes, so it is stopped right away (without
 * RELEASE, like a machine that powers off). Returns the hook's last event.
 */
export async function dhclient(ns: Netns, ifName: string, dir: string, name: string): Promise<Record<string, string>> {
  const script = hookScript(dir, name, DHCLIENT_VARS);
  const files = ['-sf', script, '-lf', join(dir, `${name}.leases`), '-pf', join(dir, `${name}.pid`)];
  try {
    await ns.exec('dhclient', ['-1', '-v', ...files, ifName], { timeoutMs: 60_000 });
  } finally {
    await ns.exec('dhclient', ['-x', ...files, ifName], { okCodes: [0, 1, 2], timeoutMs: 10_000 }).catch(() => {});
  }
  const events = hookEvents(dir, name).filter((e) => e.event === 'BOUND' || e.event === 'REBOOT' || e.event === 'RENEW');
  if (events.length === 0) throw new Error(`dhclient ${name} got no lease: ${JSON.stringify(hookEvents(dir, name))}`);
  return events.at(-1)!;
}
