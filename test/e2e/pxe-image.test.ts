/**
 * The PXE image booted for real: QEMU loads dist/pxe/vmlinuz + initramfs
 * directly (no PXE server needed), on a bridge in a private namespace where
 * dnsmasq hands out addresses. /init's self-test mode prints what it found
 * (modules, the DHCP address, the tools' versions), partitions and formats
 * the VM's SATA disk as the provisioning client would, and powers off.
 * A second boot, under UEFI (OVMF), checks that efivarfs is mounted and that
 * a failed `trowel provision` leaves the machine at a shell instead of rebooting.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPxeImage, type PxeImage } from '../../appliance/pxe/build.ts';
import { createBridge, createTap, Netns } from '../../src/lab/netns.ts';
import { serialLines, startVm, type Vm } from '../../src/lab/qemu.ts';
import { VERSION } from '../../src/version.ts';

const BRIDGE_ADDRESS = '10.66.0.1';
const MAC = '52:54:00:e2:0b:01';
/** TCG boots the image in ~30-60 s; a machine busy with other VMs needs more. */
const BOOT_TIMEOUT_MS = 300_000;

describe('PXE image boots in QEMU', () => {
  let image: PxeImage;
  let dir: string;
  let ns: Netns | undefined;
  let dnsmasq: ChildProcess | undefined;
  const vms: Vm[] = [];

  beforeAll(async () => {
    image = await buildPxeImage();
    dir = await mkdtemp(join(tmpdir(), 'trowel-pxe-e2e-'));
    ns = await Netns.create();
    await createBridge(ns, 'br0', `${BRIDGE_ADDRESS}/24`);
    dnsmasq = ns.spawn('dnsmasq', [
      '--no-daemon', '--conf-file=/dev/null', '--port=0', '--interface=br0', '--bind-interfaces',
      '--dhcp-range=10.66.0.100,10.66.0.150,255.255.255.0,1h', `--dhcp-option=option:router,${BRIDGE_ADDRESS}`,
      `--dhcp-leasefile=${join(dir, 'leases')}`,
    ], { stdio: 'ignore' });
  }, 900_000);

  afterAll(async () => {
    await Promise.allSettled(vms.map((vm) => vm.stop()));
    dnsmasq?.kill();
    await ns?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const boot = async (tap: string, firmware: 'bios' | 'uefi', args: string) => {
    await createTap(ns!, tap, 'br0');
    const vm = await startVm({
      ns: ns!, tap, firmware, mac: MAC,
      disk: { bus: 'sata', sizeMiB: 256 },
      directBoot: { kernel: image.kernel, initrd: image.initrd, args },
    });
    vms.push(vm);
    return vm;
  };

  it('self-test: version line, drivers by coldplug, a DHCP address, the tools, and a formatted disk', async () => {
    const vm = await boot('tap0', 'bios', `console=ttyS0 trowel.selftest=1 trowel.selftest-disk=/dev/sda trowel.mac=${MAC}`);
    await vm.waitForSerial(new RegExp(`^trowel PXE image ${VERSION.replaceAll('.', '\\.')} starting$`), BOOT_TIMEOUT_MS);
    const end = await vm.waitForSerial(/^trowel-selftest: end failures=\d+$/, BOOT_TIMEOUT_MS);
    expect(await vm.exited).toBe(0); // poweroff -f ends QEMU
    const lines = serialLines(await readFile(vm.serialLog, 'utf8'));
    const log = lines.join('\n');

    expect(lines.filter((l) => l.startsWith('selftest: FAILED'))).toEqual([]);
    expect(end).toBe('trowel-selftest: end failures=0');
    expect(lines).toContain('firmware: BIOS');
    // Loaded because the hardware asked (virtio NIC, q35's AHCI, then the SCSI disk) or /etc/trowel/modules (btrfs, vfat).
    const modules = lines.map((l) => /^(\w+)\s+\d+\s+\d+/.exec(l)?.[1]).filter((m) => m !== undefined);
    for (const m of ['virtio_net', 'virtio_pci', 'ahci', 'sd_mod', 'btrfs', 'vfat', 'nls_cp437', 'nls_ascii']) expect(modules).toContain(m);
    // udhcpc's script configured the NIC with dnsmasq's lease and route.
    const network = lines.find((l) => l.startsWith('network: eth0 '));
    expect(network).toMatch(/^network: eth0 10\.66\.0\.(\d+)\/24 router 10\.66\.0\.1 dns /);
    const address = /10\.66\.0\.\d+/.exec(network!)![0];
    expect(log).toContain(`inet ${address}/24`);
    expect(lines).toContain(`default via ${BRIDGE_ADDRESS} dev eth0`);
    expect(await readFile(join(dir, 'leases'), 'utf8')).toContain(`${MAC} ${address}`);
    // The tools run inside the image.
    expect(lines[lines.indexOf('== trowel --version') + 1]).toBe(`trowel ${VERSION}`);
    expect(lines[lines.indexOf('== btrfs --version') + 1]).toMatch(/^btrfs-progs v\d/);
    expect(lines[lines.indexOf('== sfdisk --version') + 1]).toMatch(/^sfdisk from util-linux \d/);
    // The disk was partitioned (GPT), formatted (vfat ESP + btrfs pool), mounted and unmounted.
    expect(lines).toContain('selftest: ok: selftest_disk /dev/sda');
    expect(log).toMatch(/^\/dev\/sda1: .*\bLABEL="TROWEL-ESP".*\bTYPE="vfat"/m);
    expect(log).toMatch(/^\/dev\/sda2: .*\bLABEL="trowel".*\bTYPE="btrfs"/m);
    expect(log).toContain("Create subvolume '/mnt/pool/@selftest'");
    // No converter warnings from mkfs.fat: the image carries glibc's CP850 module.
    expect(log).not.toContain('Cannot initialize conversion');
  });

  it('UEFI: efivarfs is mounted, and a failed trowel provision leaves the machine at a shell, not in a reboot loop', async () => {
    // No server: whatever trowel provision does, it cannot succeed.
    // UEFI this time (OVMF boots the kernel QEMU hands it): /init mounts efivarfs for GRUB's installer.
    const vm = await boot('tap1', 'uefi', `console=ttyS0 trowel.mode=unattended trowel.mac=${MAC}`);
    await vm.waitForSerial(/^firmware: UEFI, efivarfs mounted$/, BOOT_TIMEOUT_MS);
    await vm.waitForSerial(/^trowel: unattended provisioning$/, BOOT_TIMEOUT_MS);
    const failed = await vm.waitForSerial(/^trowel: provisioning failed \(exit status \d+\)/, BOOT_TIMEOUT_MS);
    expect(failed).not.toMatch(/exit status 0\)/);
    await vm.waitForSerial(/^trowel: starting a shell on the console/, 60_000);
    // busybox ash's prompt (PS1 from /init) on the serial console: the shell is up and waiting.
    await vm.waitForSerial(/^trowel-pxe:\/#$/, 60_000);
    // Still running a few seconds later (QEMU runs with -no-reboot: a reboot would end it).
    const stillRunning = await Promise.race([vm.exited.then(() => false), new Promise((r) => setTimeout(() => r(true), 5000))]);
    expect(stillRunning).toBe(true);
  });
});
