/**
 * Boot options shared by both handlers: the modifier for a boot client's
 * next stage, or none (with a log line saying why a boot client got nothing).
 */
import type { Logger } from '../log/logger.ts';
import type { DhcpRequest } from './handler.ts';
import { withBoot, type Modifier } from './modifiers.ts';
import { chooseBoot, isBootClient, type BootClient, type BootTargets } from './pxe.ts';

export function bootModifier(req: DhcpRequest, client: BootClient, boot: BootTargets, log: Logger): Modifier | undefined {
  if (!isBootClient(client)) return undefined;
  // Debian's 2019 ipxe.efi, chainloaded by UEFI PXE, hangs after a script's
  // `exit` instead of returning to the firmware; withholding the boot file
  // from the firmware's own PXE client is what reliably reaches the disk.
  if (!client.ipxe && boot.netboot && !boot.netboot(req.mac)) {
    log.info('dhcp.boot_local', { mac: req.mac, xid: req.packet.xid, arch: client.arch, reason: 'boot action is local: no boot file' });
    return undefined;
  }
  const choice = chooseBoot(client, req.mac, boot);
  if (!choice) {
    log.warn('dhcp.no_boot_file', { mac: req.mac, xid: req.packet.xid, arch: client.arch, reason: 'no iPXE binary for this client architecture' });
    return undefined;
  }
  return withBoot(choice, boot.serverAddress);
}
