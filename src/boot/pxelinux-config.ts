/**
 * Per-machine pxelinux configuration served over TFTP as
 * `pxelinux.cfg/01-<mac-with-dashes>` (the first name pxelinux asks for),
 * so a BIOS machine booting pxelinux instead of iPXE gets the same kernel,
 * initramfs and per-machine arguments as the iPXE script, or "boot local".
 * Any other pxelinux.cfg name (UUID, hex IP prefixes, `default`) falls
 * through to the filesystem.
 */
import type { TrowelConfig } from '../config/index.ts';
import type { MachineStore } from '../store/index.ts';
import { normalizeMac } from '../wire/mac.ts';

const PER_MAC = /^\/?pxelinux\.cfg\/01-([0-9a-f]{2}(?:-[0-9a-f]{2}){5})$/i;

export function pxelinuxConfigFor(path: string, machines: MachineStore, config: TrowelConfig): Buffer | undefined {
  const m = PER_MAC.exec(path);
  const mac = m && normalizeMac(m[1]!);
  if (!mac) return undefined;
  const machine = machines.recordContact({ mac });
  return Buffer.from(renderPxelinuxConfig(machine, config));
}

export function renderPxelinuxConfig(
  machine: { mac: string; token: string; action: string },
  config: Pick<TrowelConfig, 'listen' | 'http' | 'boot'>,
): string {
  if (machine.action === 'local') {
    // LOCALBOOT 0 returns to the BIOS, which boots the next device (the disk).
    return `# trowel: ${machine.mac} boots from its local disk\nDEFAULT local\nLABEL local\n  LOCALBOOT 0\n`;
  }
  const server = `http://${config.listen.address}:${config.http.port}`;
  const args = [
    `trowel.server=${server}`,
    `trowel.mac=${machine.mac}`,
    `trowel.token=${machine.token}`,
    `trowel.action=${machine.action}`,
    config.boot.args,
  ].filter(Boolean);
  // URLs need lpxelinux.0 (the HTTP-capable pxelinux); it fetches from the
  // same /boot/files/ the iPXE script uses and adds initrd= to the arguments itself.
  return [
    `# trowel: ${machine.mac} action=${machine.action}`,
    'DEFAULT trowel',
    'LABEL trowel',
    `  KERNEL ${server}/boot/files/${config.boot.kernel}`,
    `  INITRD ${server}/boot/files/${config.boot.initrd}`,
    `  APPEND ${args.join(' ')}`,
    '',
  ].join('\n');
}
