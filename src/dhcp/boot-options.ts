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
  const choice = chooseBoot(client, req.mac, boot);
  if (!choice) {
    log.warn('dhcp.no_boot_file', { mac: req.mac, xid: req.packet.xid, arch: client.arch, reason: 'no iPXE binary for this client architecture' });
    return undefined;
  }
  return withBoot(choice, boot.serverAddress);
}
