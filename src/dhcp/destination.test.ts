import { describe, expect, it } from 'vitest';
import { request } from '../../test/helpers/dhcp-requests.ts';
import { replyDestination, type DestinationContext } from './destination.ts';
import { buildReply } from './modifiers.ts';

const ctx: DestinationContext = { via: 'dhcp', peer: { address: '0.0.0.0', port: 68 }, serverPort: 67, loopback: false };
const to = (change: Parameters<typeof request>[1], type: number, c: Partial<DestinationContext> = {}) => {
  const req = request('udhcpc-request', change).packet;
  return replyDestination(req, buildReply(req, type), { ...ctx, ...c });
};

describe('replyDestination (RFC 2131 4.1)', () => {
  it('sends to the relay agent server port when giaddr is set, whatever the type', () => {
    expect(to({ fields: { giaddr: '10.5.0.1', ciaddr: '10.99.0.9' } }, 5)).toEqual({ address: '10.5.0.1', port: 67 });
    expect(to({ fields: { giaddr: '10.5.0.1' } }, 6)).toEqual({ address: '10.5.0.1', port: 67 });
  });

  it('unicasts to ciaddr on the client port, but broadcasts a NAK', () => {
    expect(to({ fields: { ciaddr: '10.99.0.9' } }, 5)).toEqual({ address: '10.99.0.9', port: 68 });
    expect(to({ fields: { ciaddr: '10.99.0.9' } }, 6)).toEqual({ address: '255.255.255.255', port: 68 });
  });

  it('broadcasts to a client without an address, on server port + 1', () => {
    expect(to({}, 2)).toEqual({ address: '255.255.255.255', port: 68 });
    expect(to({}, 2, { serverPort: 1067 })).toEqual({ address: '255.255.255.255', port: 1068 });
  });

  it('answers port 4011 requests and loopback senders where they came from', () => {
    expect(to({ fields: { ciaddr: '10.99.0.9' } }, 5, { via: 'pxe', peer: { address: '10.99.0.9', port: 4011 } })).toEqual({ address: '10.99.0.9', port: 4011 });
    expect(to({}, 2, { loopback: true, peer: { address: '127.0.0.1', port: 40000 } })).toEqual({ address: '127.0.0.1', port: 40000 });
  });
});
