/**
 * Re-captures the real-client DHCP fixtures in test/fixtures/dhcp/:
 *   npx node test/helpers/dhcp-capture.ts            (root; ~1-2 minutes)
 *
 * Two namespaces joined by a veth; the client side is a bridge with a tap so
 * QEMU can sit on it too. trowel's DHCP server answers (so clients get as far
 * as REQUEST) while a second socket on 0.0.0.0:67 (SO_REUSEADDR: the kernel
 * gives every such socket its copy of a broadcast) records the raw bytes.
 * Clients: ISC dhclient, busybox udhcpc, and the iPXE ROM from ipxe-qemu
 * booted by SeaBIOS and by OVMF (which runs EDK2's own PXE code first).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDhcpPacket } from '../../src/dhcp/codec.ts';
import { messageType } from '../../src/dhcp/packet.ts';
import { connect, createBridge, createTap, Netns } from '../../src/lab/netns.ts';
import { run } from '../../src/sys/run.ts';
import { startDhcpProcess } from './dhcp-harness.ts';

/** A fixed SMBIOS UUID, so option 97 in the fixtures shows how each firmware orders its bytes. */
const UUID = '00112233-4455-6677-8899-aabbccddeeff';
const OUT = join(import.meta.dirname, '../fixtures/dhcp');
const LISTENER = `
const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true });
s.on('message', (m) => process.stdout.write(m.toString('hex') + '\\n'));
s.bind(67, '0.0.0.0', () => process.stdout.write('ready\\n'));
`;

interface Capture { hex: string; type: number | undefined }

const dir = mkdtempSync(join(tmpdir(), 'trowel-capture-'));
const server = await Netns.create();
const client = await Netns.create();
const captured: Capture[] = [];
let stopServer: (() => Promise<unknown>) | undefined;
let listenerKill: (() => void) | undefined;

function since(start: number, type: number, match: (p: ReturnType<typeof parseDhcpPacket>) => boolean): Capture | undefined {
  return captured.slice(start).find((c) => c.type === type && match(parseDhcpPacket(Buffer.from(c.hex, 'hex'))));
}

async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Cannot capture ${what}: nothing within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function save(name: string, label: string, c: Capture): void {
  const lines = c.hex.match(/.{1,64}/g)!.join('\n');
  writeFileSync(join(OUT, `${name}.hex`), `# ${label}, captured by test/helpers/dhcp-capture.ts\n${lines}\n`);
  process.stdout.write(`saved ${name}.hex (${c.hex.length / 2} bytes)\n`);
}

async function qemu(name: string, firmware: string[], nic: string, label: string): Promise<void> {
  const mac = /mac=([\w:]+)/.exec(nic)![1]!;
  const start = captured.length;
  const vm = client.spawn('qemu-system-x86_64', [
    '-accel', 'tcg', '-m', '256', '-nographic', '-no-reboot', '-boot', 'n', '-uuid', UUID, ...firmware,
    '-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no', '-device', nic,
  ], { stdio: 'ignore' });
  try {
    const byMac = (p: ReturnType<typeof parseDhcpPacket>) => p.chaddr.subarray(0, 6).toString('hex') === mac.replaceAll(':', '');
    save(`${name}-discover`, `${label} DHCPDISCOVER`, await until(`${name} DISCOVER`, 90_000, () => since(start, 1, byMac)));
    save(`${name}-request`, `${label} DHCPREQUEST`, await until(`${name} REQUEST`, 60_000, () => since(start, 3, byMac)));
  } finally {
    vm.kill('SIGKILL');
  }
}

try {
  await connect(server, 'eth0', '10.99.0.1/24', client, 'eth0', undefined);
  await createBridge(client, 'br0', undefined);
  // A fixed MAC keeps re-captured fixtures comparable (and the tests' expectations valid).
  await client.ip('link', 'set', 'br0', 'address', '52:54:00:c0:ff:10');
  await client.ip('link', 'set', 'eth0', 'master', 'br0');
  await createTap(client, 'tap0', 'br0');
  const config = join(dir, 'trowel.yaml');
  writeFileSync(config, `listen: { address: 10.99.0.1 }\ndhcp: { mode: authoritative, range: 10.99.0.100-10.99.0.150, router: 10.99.0.1, dns: [10.99.0.1] }\nhttp: { port: 8080 }\nstateDir: ${dir}/state\n`);
  const dhcp = await startDhcpProcess(server, config);
  stopServer = () => dhcp.stop();

  const listener = server.spawn(process.execPath, ['-e', LISTENER]);
  listenerKill = () => listener.kill('SIGKILL');
  let partial = '';
  await new Promise<void>((resolve) => listener.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') resolve();
      else if (line) {
        let type: number | undefined;
        try {
          type = messageType(parseDhcpPacket(Buffer.from(line, 'hex')));
        } catch {
          type = undefined;
        }
        captured.push({ hex: line, type });
      }
    }
  }));

  const brMac = (await client.exec('cat', ['/sys/class/net/br0/address'])).stdout.trim().replaceAll(':', '');
  const fromBridge = (p: ReturnType<typeof parseDhcpPacket>) => p.chaddr.subarray(0, 6).toString('hex') === brMac;

  const dhclientVersion = (await run('dhclient', ['--version'], { okCodes: [0, 1] })).stderr.trim() || 'isc-dhclient';
  let start = captured.length;
  await client.exec('dhclient', ['-1', '-v', '-sf', '/bin/true', '-lf', join(dir, 'dhclient.leases'), '-pf', join(dir, 'dhclient.pid'), 'br0'], { timeoutMs: 60_000 });
  await client.exec('dhclient', ['-x', '-sf', '/bin/true', '-lf', join(dir, 'dhclient.leases'), '-pf', join(dir, 'dhclient.pid'), 'br0'], { okCodes: [0, 1, 2] });
  save('dhclient-discover', `${dhclientVersion} DHCPDISCOVER`, await until('dhclient DISCOVER', 5000, () => since(start, 1, fromBridge)));
  save('dhclient-request', `${dhclientVersion} DHCPREQUEST (SELECTING)`, await until('dhclient REQUEST', 5000, () => since(start, 3, fromBridge)));

  const busybox = (await run('busybox', [], { okCodes: [0, 1] })).stdout.split('\n')[0]!.replace(/ multi-call.*/, '');
  start = captured.length;
  await client.exec('busybox', ['udhcpc', '-f', '-q', '-n', '-i', 'br0', '-s', '/bin/true', '-t', '3', '-T', '2'], { timeoutMs: 30_000 });
  save('udhcpc-discover', `${busybox} udhcpc DHCPDISCOVER`, await until('udhcpc DISCOVER', 5000, () => since(start, 1, fromBridge)));
  save('udhcpc-request', `${busybox} udhcpc DHCPREQUEST (SELECTING)`, await until('udhcpc REQUEST', 5000, () => since(start, 3, fromBridge)));

  const ovmf = ['-bios', '/usr/share/ovmf/OVMF.fd'];
  await qemu('ipxe-bios', [], 'virtio-net-pci,netdev=n0,mac=52:54:00:c0:ff:01', 'iPXE BIOS ROM (ipxe-qemu, SeaBIOS, virtio-net)');
  await qemu('ipxe-uefi', ovmf, 'virtio-net-pci,netdev=n0,mac=52:54:00:c0:ff:02', 'iPXE EFI ROM (ipxe-qemu efi-virtio.rom under OVMF)');
  // No option ROM: OVMF's own virtio driver and EDK2's PXE base code do the DHCP.
  await qemu('edk2-uefi', ovmf, 'virtio-net-pci,netdev=n0,mac=52:54:00:c0:ff:03,romfile=', 'EDK2 PXE (OVMF, x86-64 UEFI, virtio-net without option ROM)');
} finally {
  listenerKill?.();
  await stopServer?.();
  await client.destroy();
  await server.destroy();
  rmSync(dir, { recursive: true, force: true });
}
