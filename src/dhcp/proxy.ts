/**
 * proxyDHCP (PXE 2.1 2.2.2 and 2.2.3): another server hands out addresses;
 * trowel only tells PXE and HTTP-boot clients what to boot. It answers a
 * DISCOVER on port 67 with an OFFER that carries no address (yiaddr 0), and a
 * REQUEST or INFORM on port 4011 with an ACK. Clients whose option 60 is not
 * PXEClient/HTTPClient are never answered, so a proxy can sit on any network
 * without disturbing ordinary DHCP.
 */
import type { Logger } from '../log/logger.ts';
import type { DhcpRequest, Handler, HandlerResult } from './handler.ts';
import { bootModifier } from './boot-options.ts';
import { buildReply, echoClientAddress, orderAndFit, withServerId } from './modifiers.ts';
import { MessageType } from './options.ts';
import { describeBootClient, type BootTargets } from './pxe.ts';

export interface ProxyOptions {
  boot: BootTargets;
  log: Logger;
}

export class ProxyHandler implements Handler {
  readonly name = 'proxy';
  private readonly boot: BootTargets;
  private readonly log: Logger;

  constructor(o: ProxyOptions) {
    this.boot = o.boot;
    this.log = o.log;
  }

  handle(req: DhcpRequest): HandlerResult {
    const client = describeBootClient(req.packet);
    if (!client.pxe && !client.http) return { dropped: 'not-pxe' };
    const expected = req.via === 'dhcp' ? req.type === MessageType.discover : req.type === MessageType.request || req.type === MessageType.inform;
    // On port 67 the REQUEST/ACK belongs to the real DHCP server; stay out of it.
    if (!expected) return {};
    const boot = bootModifier(req, client, this.boot, this.log);
    if (!boot) return { dropped: 'no-boot-file' };
    const type = req.via === 'dhcp' ? MessageType.offer : MessageType.ack;
    return {
      reply: buildReply(req.packet, type, withServerId(this.boot.serverAddress), ...(type === MessageType.ack ? [echoClientAddress] : []), boot, orderAndFit),
    };
  }
}
