/**
 * DHCP option codes (RFC 2132 unless noted) and the values of option 53.
 * Named constants with the wire value beside them, so a packet dump and
 * the code read the same.
 */
export const DhcpOption = {
  pad: 0, //                      0   RFC 2132 3.1
  subnetMask: 1, //               1
  router: 3, //                   3
  dnsServers: 6, //               6
  hostname: 12, //               12
  domainName: 15, //             15
  broadcastAddress: 28, //       28
  vendorSpecific: 43, //         43   PXE vendor options when option 60 is PXEClient
  requestedAddress: 50, //       50
  leaseTime: 51, //              51
  overload: 52, //               52   sname/file carry options (1 file, 2 sname, 3 both)
  messageType: 53, //            53
  serverId: 54, //               54
  parameterRequestList: 55, //   55
  message: 56, //                56   text explaining a NAK
  maxMessageSize: 57, //         57
  renewalTime: 58, //            58   T1
  rebindingTime: 59, //          59   T2
  vendorClass: 60, //            60
  clientId: 61, //               61
  tftpServerName: 66, //         66
  bootfileName: 67, //           67
  userClass: 77, //              77   RFC 3004
  clientArch: 93, //             93   RFC 4578
  clientNdi: 94, //              94   RFC 4578
  clientUuid: 97, //             97   RFC 4578
  ipxeEncapsulated: 175, //     175   iPXE feature flags (encapsulated)
  end: 255, //                  255
} as const;
export type DhcpOption = (typeof DhcpOption)[keyof typeof DhcpOption];

/** Option 53 values (RFC 2132 9.6). */
export const MessageType = {
  discover: 1, //  1
  offer: 2, //     2
  request: 3, //   3
  decline: 4, //   4
  ack: 5, //       5
  nak: 6, //       6
  release: 7, //   7
  inform: 8, //    8
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const TYPE_NAMES = Object.fromEntries(Object.entries(MessageType).map(([k, v]) => [v, k])) as Record<number, string>;

/** Lowercase name of a message type for logs and metric labels ("unknown" otherwise). */
export function messageTypeName(type: number | undefined): string {
  return (type !== undefined && TYPE_NAMES[type]) || 'unknown';
}

/** BOOTP op codes (RFC 951). */
export const BootpOp = { request: 1, reply: 2 } as const;

/** The four bytes that start the options field (RFC 2131 3; RFC 1497). */
export const MAGIC_COOKIE = 0x63825363;

/** Flags field: the broadcast bit (RFC 2131 2, figure 2). */
export const FLAG_BROADCAST = 0x8000;
