/**
 * Boot options shared by both handlers: the modifier for a boot client's
 * next stage, or none (with a log line saying why a boot client got nothing).
 */
import type { Logger } from '../log/logger.ts';
import type { DhcpRequest } from './handler.ts';
import { withBoot, type Modifier } from './modifiers.ts';
import { chooseBoot, chooseLocalBoot, isBootClient, type BootClient, type BootTargets } from './pxe.ts';

export function bootModifier(req: DhcpRequest, client: BootClient, boot: BootTargets, log: Logger): Modifier | undefined {
  if (!isBootClient(client)) return undefined;
  // Debian's 2019 ipxe.efi, chainloaded by UEFI PXE, hangs after a script's
  // `exit` instead of returning to the firmware, so the firmware's own PXE
  // client of a `local` machine never gets iPXE. x86-64 UEFI gets GRUB, which
  // chainloads the disk's loader at once; without it (or on other firmware)
  // it gets no boot file and reaches the disk after its network boot options
  // time out (minutes on OVMF: IPv4 PXE, IPv6 PXE, HTTP boot).
  if (!client.ipxe && boot.netboot && !boot.netboot(req.mac)) {
    const local = chooseLocalBoot(client, boot);
    const fields = { mac: req.mac, xid: req.packet.xid, arch: client.arch };
    if (local) {
      log.info('dhcp.boot_local', { ...fields, file: local.file, reason: 'boot action is local: GRUB chainloads the disk' });
      return withBoot(local, boot.serverAddress);
    }
    log.info('dhcp.boot_local', { ...fields, reason: 'boot action is local: no boot file' });
    return undefined;
  }
  const choice = chooseBoot(client, req.mac, boot);
  if (!choice) {
    log.warn('dhcp.no_boot_file', { mac: req.mac, xid: req.packet.xid, arch: client.arch, reason: 'no iPXE binary for this client architecture' });
    return undefined;
  }
  return withBoot(choice, boot.serverAddress);
}
