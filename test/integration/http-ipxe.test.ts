/**
 * Real firmware against the HTTP server: QEMU (TCG) with Debian's iPXE ROM
 * fetches /boot/ipxe and follows the script. UEFI `discover` must reach the
 * initramfs's /init (proves `initrd=<name>` on the command line works with
 * Debian's 2019 iPXE on OVMF); BIOS `local` must sanboot the first disk
 * (a one-sector disk whose boot code prints DISKBOOT on the serial port).
 *
 * Networking is QEMU user mode with restrict=on: the guest can reach nothing
 * but one forward, 10.0.2.100:<port> -> 127.0.0.1:<port>, our server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.ts';
import { startHttpServer, type HttpServer } from '../../src/http/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { MetricsRegistry } from '../../src/metrics/registry.ts';
import { MachineStore, openDatabase } from '../../src/store/index.ts';

const GUEST_SERVER = '10.0.2.100';
const OVMF = '/usr/share/OVMF/OVMF_CODE.fd';

/**
 * A BIOS boot sector, hand-assembled: xor ax,ax; mov ds,ax; mov dx,0x3f8;
 * mov si,0x7c15; loop: lodsb; test al,al; jz halt; out dx,al; jmp loop;
 * halt: hlt; jmp halt; then "DISKBOOT\r\n\0" and the 55 AA signature.
 */
const BOOT_CODE = '31c08ed8baf803be157cac84c07403eeebf8f4ebfd' + Buffer.from('DISKBOOT\r\n\0').toString('hex');

let dir: string;
let server: HttpServer;
let machines: MachineStore;
const vms: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trowel-http-ipxe-'));
  const root = join(dir, 'root');
  const kernel = readdirSync('/boot').find((f) => f.startsWith('vmlinuz-'));
  if (!kernel) throw new Error('Cannot run the iPXE test: no /boot/vmlinuz-* (run scripts/install-deps.sh)');
  const version = kernel.slice('vmlinuz-'.length);
  mkdirSync(join(root, 'pxe'), { recursive: true });
  copyFileSync(join('/boot', kernel), join(root, 'pxe', 'vmlinuz'));
  copyFileSync(join('/boot', `initrd.img-${version}`), join(root, 'pxe', 'initrd.img'));
  const sector = Buffer.alloc(512);
  Buffer.from(BOOT_CODE, 'hex').copy(sector);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  writeFileSync(join(dir, 'disk.img'), Buffer.concat([sector, Buffer.alloc(1024 * 1024 - 512)]));

  const config = parseConfig(
    `listen: { address: ${GUEST_SERVER} }\nhttp: { root: ${JSON.stringify(root)} }\n` +
      'boot: { kernel: pxe/vmlinuz, initrd: pxe/initrd.img, args: "console=ttyS0 panic=-1" }\n',
    join(dir, 'trowel.yaml'),
  );
  machines = new MachineStore(openDatabase(':memory:'));
  server = await startHttpServer({ config, machines, metrics: new MetricsRegistry(), log: silentLogger, adminToken: 'a'.repeat(43), bindAddress: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  for (const vm of vms) vm.kill('SIGKILL');
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Boots a VM from the network and resolves with its serial output once `marker` appears. */
function bootUntil(firmware: 'bios' | 'uefi', mac: string, marker: RegExp, timeoutMs = 120_000): Promise<string> {
  const port = server.port;
  const args = [
    '-nographic', '-m', '768', '-no-reboot', '-accel', 'tcg',
    '-netdev', `user,id=n0,restrict=on,guestfwd=tcp:${GUEST_SERVER}:${port}-tcp:127.0.0.1:${port},bootfile=http://${GUEST_SERVER}:${port}/boot/ipxe?mac=${mac}`,
    '-device', `e1000,netdev=n0,mac=${mac},bootindex=1`,
    '-drive', `if=none,id=d0,format=raw,snapshot=on,file=${join(dir, 'disk.img')}`,
    '-device', 'ide-hd,drive=d0,bootindex=2',
  ];
  if (firmware === 'uefi') args.unshift('-drive', `if=pflash,format=raw,readonly=on,file=${OVMF}`);
  const vm = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  vms.push(vm);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      vm.kill('SIGKILL');
      reject(new Error(`no ${marker} within ${timeoutMs / 1000}s; serial tail:\n${out.slice(-2000)}`));
    }, timeoutMs);
    const collect = (d: Buffer) => {
      out += d.toString('latin1');
      if (marker.test(out)) {
        clearTimeout(timer);
        vm.kill('SIGKILL');
        resolve(out);
      }
    };
    vm.stdout.on('data', collect);
    vm.stderr.on('data', collect);
    vm.on('exit', () => {
      clearTimeout(timer);
      if (!marker.test(out)) reject(new Error(`QEMU exited before ${marker}; serial tail:\n${out.slice(-2000)}`));
    });
  });
}

describe('iPXE firmware follows trowel boot scripts', () => {
  it('UEFI discover: kernel and initramfs over HTTP reach /init with the trowel arguments', async () => {
    const mac = '52:54:00:7e:00:01';
    const out = await bootUntil('uefi', mac, /Run \/init as init process|Unable to mount root fs|Kernel panic/);
    const token = machines.get(mac)?.token;
    expect(token).toBeDefined();
    expect(out).toContain(`trowel.mac=${mac} trowel.token=${token} trowel.action=discover console=ttyS0`);
    expect(out).toMatch(/Freeing initrd memory/);
    expect(out).toContain('Run /init as init process');
  });

  it('BIOS local: sanboot hands over to the first hard disk', async () => {
    const mac = '52:54:00:7e:00:02';
    machines.recordContact({ mac });
    machines.setAction(mac, 'local');
    const out = await bootUntil('bios', mac, /DISKBOOT|No bootable device/);
    expect(out).toContain(`trowel: ${mac} boots from its local disk`);
    expect(out).toContain('DISKBOOT');
  });
});
