/**
 * proxyDHCP beside a dnsmasq that hands out addresses, on one Ethernet
 * segment (a bridge in its own namespace): real PXE firmware (the iPXE ROM
 * under SeaBIOS, and EDK2's own PXE under OVMF) takes its address from
 * dnsmasq and its boot file from trowel, and prints both on its console;
 * a plain DHCP client gets its address from dnsmasq and never a word from trowel.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createBridge, createTap, Netns } from '../../src/lab/netns.ts';
import { setMac, udhcpc } from '../helpers/dhcp-clients.ts';
import { startDhcpProcess, type DhcpProcess } from '../helpers/dhcp-harness.ts';

/** Boots QEMU on the lan's tap and resolves with its console output once `done` matches it. */
function bootVm(lan: Netns, args: string[], done: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const vm: ChildProcess = lan.spawn('qemu-system-x86_64', [
      '-accel', 'tcg', '-m', '256', '-nographic', '-no-reboot', '-boot', 'n', ...args,
      '-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no',
    ]);
    let out = '';
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      vm.kill('SIGKILL');
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`VM console never matched ${done}:\n${out.slice(-3000)}`))), timeoutMs);
    // The console is full of terminal escapes; strip them before matching.
    vm.stdout!.on('data', (d: Buffer) => {
      out += d.toString('latin1').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      if (done.test(out)) finish(() => resolve(out));
    });
    vm.once('exit', () => finish(() => (done.test(out) ? resolve(out) : reject(new Error(`VM exited:\n${out.slice(-3000)}`)))));
  });
}

describe('proxyDHCP beside dnsmasq', () => {
  /** The address dnsmasq's lease file records for `mac`. */
  const dnsmasqLease = (mac: string) => readFileSync(join(dir, 'dnsmasq.leases'), 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[1] === mac)?.[2];

  let dir: string;
  const spaces: Netns[] = [];
  let lan: Netns;
  let client: Netns;
  let dnsmasq: ChildProcess | undefined;
  let trowel: DhcpProcess | undefined;
  let dnsmasqLog = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trowel-proxy-'));
    lan = await Netns.create();
    const dnsmasqNs = await Netns.create();
    const trowelNs = await Netns.create();
    client = await Netns.create();
    spaces.push(client, trowelNs, dnsmasqNs, lan);
    await createBridge(lan, 'br0', undefined);
    await connect(dnsmasqNs, 'eth0', '10.97.0.2/24', lan, 'vd', undefined);
    await connect(trowelNs, 'eth0', '10.97.0.1/24', lan, 'vt', undefined);
    await connect(client, 'eth0', undefined, lan, 'vc', undefined);
    for (const port of ['vd', 'vt', 'vc']) await lan.ip('link', 'set', port, 'master', 'br0');
    await createTap(lan, 'tap0', 'br0');

    dnsmasq = dnsmasqNs.spawn('dnsmasq', [
      '--no-daemon', '--port=0', '--conf-file=/dev/null', '--interface=eth0', '--bind-interfaces', '--user=root', '--no-ping',
      '--dhcp-range=10.97.0.100,10.97.0.150,255.255.255.0,10m', `--dhcp-leasefile=${dir}/dnsmasq.leases`, `--pid-file=${dir}/dnsmasq.pid`,
      '--log-dhcp', '--log-facility=-',
    ]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dnsmasq did not start: ${dnsmasqLog}`)), 10_000);
      dnsmasq!.stderr!.on('data', (d: Buffer) => {
        dnsmasqLog += d.toString();
        if (dnsmasqLog.includes('DHCP, IP range')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });

    const config = join(dir, 'trowel.yaml');
    writeFileSync(config, `listen: { address: 10.97.0.1 }\ndhcp: { mode: proxy }\nhttp: { port: 8080 }\nstateDir: state\n`);
    trowel = await startDhcpProcess(trowelNs, config);
  });

  afterAll(async () => {
    await trowel?.stop();
    dnsmasq?.kill('SIGTERM');
    for (const ns of spaces) await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a plain client gets its address from dnsmasq; trowel stays silent', async () => {
    await setMac(client, 'eth0', '52:54:00:bb:00:10');
    expect(await udhcpc(client, 'eth0', dir, 'plain')).toMatchObject({ serverid: '10.97.0.2', siaddr: '10.97.0.2', boot_file: '' });
    await trowel!.waitFor((r) => r.event === 'dhcp.dropped' && r.mac === '52:54:00:bb:00:10' && r.reason === 'not-pxe');
    expect(trowel!.records.filter((r) => r.event === 'dhcp.reply' && r.mac === '52:54:00:bb:00:10')).toEqual([]);
  });

  it('iPXE (BIOS) takes the address from dnsmasq and the script URL from trowel', async () => {
    const screen = await bootVm(lan, ['-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:bb:00:01'], /boot\/ipxe\?mac=52:54:00:bb:00:01/, 90_000);
    const ip = /net0: (10\.97\.0\.\d+)\/255\.255\.255\.0/.exec(screen)?.[1];
    expect(ip).toMatch(/^10\.97\.0\.1[0-5]\d$/);
    expect(dnsmasqLease('52:54:00:bb:00:01')).toBe(ip);
    expect(screen).toMatch(/Next server: 10\.97\.0\.1\s/);
    const replies = trowel!.records.filter((r) => r.event === 'dhcp.reply' && r.mac === '52:54:00:bb:00:01');
    expect(replies[0]).toMatchObject({ type: 'offer', via: 'dhcp', file: 'http://10.97.0.1:8080/boot/ipxe?mac=52:54:00:bb:00:01' });
    expect(replies.map((r) => r.ip)).toEqual(replies.map(() => undefined));
  });

  it('EDK2 UEFI PXE takes the address from dnsmasq and ipxe.efi from trowel', async () => {
    const screen = await bootVm(lan, ['-bios', '/usr/share/ovmf/OVMF.fd', '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:bb:00:02,romfile='], /NBP filename is ipxe\.efi/, 150_000);
    const ip = /Station IP address is (10\.97\.0\.\d+)/.exec(screen)?.[1];
    expect(dnsmasqLease('52:54:00:bb:00:02')).toBe(ip);
    expect(screen).toMatch(/Server IP address is 10\.97\.0\.1\s/);
  });
});
