export { startDhcpServer, type DhcpServer, type DhcpServerOptions } from './server.ts';
export type { BootTargets } from './pxe.ts';
export { parseDhcpPacket, encodeDhcpPacket } from './codec.ts';
export type { DhcpPacket } from './packet.ts';
export { DhcpOption, MessageType } from './options.ts';
export { LeaseStore, type Lease } from './leases.ts';
