/**
 * The DHCP read loop: sockets in, a handler decides, replies out. Every
 * packet is handled on its own: a malformed one is logged with its peer (and
 * MAC and xid when the header has them), counted and dropped; nothing a
 * client sends can stop the loop.
 *
 * Sockets: Node's dgram has no SO_BINDTODEVICE or IP_PKTINFO, and a socket
 * bound to one address doesn't receive broadcasts, so DISCOVERs are read on
 * 0.0.0.0:<port>. Replies leave through a second socket bound to our own
 * address on the same port: with a source address set, Linux routes the
 * limited broadcast 255.255.255.255 out of the interface that owns it
 * (a wildcard socket would pick the default route's interface, or fail
 * without one). SO_REUSEADDR lets the two share the port; unicast to our
 * address arrives on the second socket and is handled the same way.
 */
import dgram from 'node:dgram';
import { TrowelError } from '../errors.ts';
import { WireError } from '../wire/index.ts';
import type { DhcpConfig } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { Database, MachineStore } from '../store/index.ts';
import { AuthoritativeHandler } from './authoritative.ts';
import { encodeDhcpPacket, parseDhcpPacket } from './codec.ts';
import { replyDestination, type Endpoint } from './destination.ts';
import type { Handler } from './handler.ts';
import { LeaseStore } from './leases.ts';
import { BootpOp, messageTypeName } from './options.ts';
import { clientArch, clientMac, clientUuid, messageType } from './packet.ts';
import { ProxyHandler } from './proxy.ts';
import type { BootTargets } from './pxe.ts';

export interface DhcpServerOptions {
  /** From src/config (mode, range, reservations, port, proxyPort, ...). */
  config: DhcpConfig;
  boot: BootTargets;
  /** src/store openDatabase(): leases live here. */
  db: Database;
  machines: MachineStore;
  metrics: MetricsRegistry;
  log: Logger;
  /** Default '0.0.0.0'. */
  bindAddress?: string;
}

export interface DhcpServer {
  readonly ports: number[];
  close(): Promise<void>;
}

export async function startDhcpServer(o: DhcpServerOptions): Promise<DhcpServer> {
  if (o.config.mode === 'off') return { ports: [], close: async () => {} };
  const bindAddress = o.bindAddress ?? '0.0.0.0';
  const log = o.log;
  const handler: Handler = o.config.mode === 'proxy'
    ? new ProxyHandler({ boot: o.boot, log })
    : new AuthoritativeHandler({ config: o.config, boot: o.boot, leases: new LeaseStore(o.db), log });
  const packets = o.metrics.counter('trowel_dhcp_packets_total', 'DHCP packets by direction (in|out) and message type');
  const dropped = o.metrics.counter('trowel_dhcp_dropped_total', 'DHCP packets dropped or refused, by reason');
  const sockets: dgram.Socket[] = [];
  const loopback = bindAddress.startsWith('127.');

  const drop = (reason: string, peer: Endpoint, fields: Record<string, unknown> = {}, level: 'debug' | 'warn' = 'debug') => {
    dropped.inc({ reason });
    log[level]('dhcp.dropped', { reason, peer: `${peer.address}:${peer.port}`, ...fields });
  };

  const onMessage = (via: 'dhcp' | 'pxe', serverPort: number, send: () => dgram.Socket) => (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    const peer = { address: rinfo.address, port: rinfo.port };
    let ids: Record<string, unknown> = headerIds(msg);
    try {
      const request = parseDhcpPacket(msg);
      if (request.op !== BootpOp.request) return drop('not-request', peer, ids);
      const mac = clientMac(request);
      if (!mac) return drop('not-ethernet', peer, ids);
      ids = { mac, xid: request.xid };
      const type = messageType(request);
      if (type === undefined) return drop('not-dhcp', peer, ids);
      packets.inc({ direction: 'in', type: messageTypeName(type) });
      log.debug('dhcp.request', { ...ids, type: messageTypeName(type), via, peer: `${peer.address}:${peer.port}` });

      const result = handler.handle({ packet: request, mac, type, via });
      if (result.dropped) return drop(result.dropped, peer, ids);
      const reply = result.reply;
      if (!reply) return;
      const to = replyDestination(request, reply, { via, peer, serverPort, loopback });
      const replyType = messageTypeName(messageType(reply));
      const ip = reply.yiaddr !== '0.0.0.0' ? reply.yiaddr : request.ciaddr !== '0.0.0.0' ? request.ciaddr : undefined;
      o.machines.recordContact({ mac, arch: clientArch(request), uuid: clientUuid(request), ip });
      const bytes = encodeDhcpPacket(reply);
      send().send(bytes, to.port, to.address, (err) => {
        if (err) log.warn('dhcp.send_failed', { ...ids, to: `${to.address}:${to.port}`, error: err.message });
      });
      packets.inc({ direction: 'out', type: replyType });
      log.info('dhcp.reply', { ...ids, type: replyType, ip, file: reply.file || undefined, to: `${to.address}:${to.port}`, via, handler: handler.name });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      if (e instanceof WireError) drop('malformed', peer, { ...ids, error }, 'warn');
      else {
        dropped.inc({ reason: 'internal-error' });
        log.error('dhcp.handler_failed', { ...ids, peer: `${peer.address}:${peer.port}`, error });
      }
    }
  };

  try {
    const main = await bindSocket(bindAddress, o.config.port);
    sockets.push(main);
    const port = main.address().port;
    let sender = main;
    if (bindAddress === '0.0.0.0' && o.boot.serverAddress !== '0.0.0.0') {
      try {
        sender = await bindSocket(o.boot.serverAddress, port);
        sockets.push(sender);
        sender.on('message', onMessage('dhcp', port, () => sender));
      } catch (e) {
        log.warn('dhcp.no_reply_socket', { address: o.boot.serverAddress, port, error: (e as Error).message, effect: 'broadcast replies follow the default route' });
      }
    }
    main.on('message', onMessage('dhcp', port, () => sender));
    const ports = [port];
    if (o.config.mode === 'proxy') {
      const pxe = await bindSocket(bindAddress, o.config.proxyPort);
      sockets.push(pxe);
      ports.push(pxe.address().port);
      pxe.on('message', onMessage('pxe', port, () => pxe));
    }
    for (const s of sockets) s.on('error', (err) => log.error('dhcp.socket_error', { error: err.message }));
    log.info('dhcp.listening', { mode: o.config.mode, address: bindAddress, ports, serverAddress: o.boot.serverAddress });
    return { ports, close: () => closeAll(sockets) };
  } catch (e) {
    await closeAll(sockets);
    throw e;
  }
}

/** MAC and xid straight from the header bytes, for logging a packet that didn't parse. */
function headerIds(msg: Buffer): Record<string, unknown> {
  if (msg.length < 34) return { bytes: msg.length };
  const mac = [...msg.subarray(28, 34)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return { mac, xid: msg.readUInt32BE(4), bytes: msg.length };
}

function bindSocket(address: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    s.once('error', (err) => {
      s.close();
      reject(bindError(address, port, err));
    });
    s.bind({ address, port }, () => {
      s.removeAllListeners('error');
      s.setBroadcast(true);
      resolve(s);
    });
  });
}

function bindError(address: string, port: number, err: NodeJS.ErrnoException): Error {
  return new TrowelError('EDHCPBIND', `Cannot listen for DHCP on ${address}:${port}: ${err.code ?? err.message}`, {
    hint: err.code === 'EACCES' ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE' : err.code === 'EADDRNOTAVAIL' ? 'the address is not on any interface' : undefined,
    cause: err,
  });
}

function closeAll(sockets: dgram.Socket[]): Promise<void> {
  return Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve();
    }
  }))).then(() => undefined);
}
