import { describe, expect, it } from 'vitest';
import { view } from '../../test/helpers/dhcp-fixtures.ts';
import { BOOT, dhcpConfig, request, textHex } from '../../test/helpers/dhcp-requests.ts';
import type { DhcpConfig } from '../config/index.ts';
import { silentLogger } from '../log/logger.ts';
import { openDatabase, type Database } from '../store/index.ts';
import { AuthoritativeHandler } from './authoritative.ts';
import { encodeDhcpPacket } from './codec.ts';
import type { DhcpRequest } from './handler.ts';
import { LeaseStore } from './leases.ts';

const UDHCPC_MAC = '525400c0ff10';
const LEASE = [[51, '00000e10'], [58, '00000708'], [59, '00000c4e']] as [number, string][];

function setup(config: Partial<DhcpConfig> = {}, db: Database = openDatabase(':memory:')) {
  const clock = { t: 1_000_000 };
  const leases = new LeaseStore(db, () => clock.t);
  const handler = new AuthoritativeHandler({ config: dhcpConfig(config), boot: BOOT, leases, log: silentLogger });
  const send = (r: DhcpRequest) => handler.handle(r);
  return { handler, leases, clock, send, db };
}

/** The fields every reply to a captured request shares. */
function replyTo(r: DhcpRequest) {
  return { op: 2, htype: 1, hlen: 6, hops: 0, xid: r.packet.xid, secs: 0, flags: r.packet.flags, giaddr: '0.0.0.0', chaddr: r.packet.chaddr.toString('hex'), sname: '' };
}

describe('AuthoritativeHandler DISCOVER', () => {
  it('offers the first address of the range to udhcpc, options in its request order', () => {
    const { send, leases, clock } = setup();
    const req = request('udhcpc-discover');
    expect(view(send(req).reply!)).toEqual({
      ...replyTo(req), ciaddr: '0.0.0.0', yiaddr: '10.99.0.100', siaddr: '0.0.0.0', file: '',
      // udhcpc asks for 1 3 6 12 15 28 42 (no hostname or NTP here).
      options: [[53, '02'], [54, '0a630001'], ...LEASE, [1, 'ffffff00'], [3, '0a630001'], [6, '0a630001'], [15, textHex('lab')], [28, '0a6300ff']],
    });
    expect(leases.get('10.99.0.100')).toMatchObject({ mac: '52:54:00:c0:ff:10', state: 'offered', expiresAt: clock.t + 60_000 });
  });

  it('offers iPXE its per-MAC script URL with the PXE options it asked for', () => {
    const { send } = setup();
    const req = request('ipxe-bios-discover');
    expect(view(send(req).reply!)).toEqual({
      ...replyTo(req), ciaddr: '0.0.0.0', yiaddr: '10.99.0.100', siaddr: '10.99.0.1',
      file: 'http://10.99.0.1:8080/boot/ipxe?mac=52:54:00:c0:ff:01',
      // iPXE's list: 1 3 6 7 12 15 17 26 43 60 66 67 119 128-135 175 203.
      options: [
        [53, '02'], [54, '0a630001'], ...LEASE, [1, 'ffffff00'], [3, '0a630001'], [6, '0a630001'], [15, textHex('lab')],
        [43, '060108ff'], [60, textHex('PXEClient')], [66, textHex('10.99.0.1')], [67, textHex('http://10.99.0.1:8080/boot/ipxe?mac=52:54:00:c0:ff:01')],
        [28, '0a6300ff'], [97, '0033221100554477668899aabbccddeeff'],
      ],
    });
  });

  it('offers EDK2 UEFI firmware ipxe.efi over TFTP', () => {
    const reply = setup().send(request('edk2-uefi-discover')).reply!;
    expect([reply.siaddr, reply.file, reply.options.get(60)?.toString()]).toEqual(['10.99.0.1', 'ipxe.efi', 'PXEClient']);
  });

  it('offers a reservation with its hostname, and never gives a reserved address to anyone else', () => {
    const { send } = setup({ reservations: [{ mac: '52:54:00:c0:ff:10', address: '10.99.0.100', hostname: 'node1' }] });
    const reserved = send(request('udhcpc-discover')).reply!;
    expect(reserved.yiaddr).toBe('10.99.0.100');
    expect(reserved.options.get(12)?.toString()).toBe('node1');
    expect(send(request('udhcpc-discover', { mac: '52:54:00:00:00:99' })).reply!.yiaddr).toBe('10.99.0.101');
  });

  it('offers the requested address (option 50) when it is free', () => {
    expect(setup().send(request('udhcpc-discover', { set: { 50: '0a630078' } })).reply!.yiaddr).toBe('10.99.0.120');
  });

  it('reports an exhausted pool instead of answering', () => {
    const { send } = setup({ range: { first: '10.99.0.100', last: '10.99.0.100' } });
    expect(send(request('udhcpc-discover')).reply!.yiaddr).toBe('10.99.0.100');
    expect(send(request('udhcpc-discover', { mac: '52:54:00:00:00:99' }))).toEqual({ dropped: 'pool-exhausted' });
  });

  it('leaves out options that do not fit the 576-byte default and keeps the rest in order', () => {
    const dns = Array.from({ length: 70 }, (_, i) => `10.99.1.${i + 1}`);
    const reply = setup({ dns }).send(request('udhcpc-discover', { remove: [57] })).reply!;
    expect([...reply.options.keys()]).toEqual([53, 54, 51, 58, 59, 1, 3, 15, 28]);
    expect(encodeDhcpPacket(reply).length).toBeLessThanOrEqual(548);
    // With room (option 57 of 1500), the DNS list goes out too.
    const roomy = setup({ dns }).send(request('udhcpc-discover', { set: { 57: '05dc' } })).reply!;
    expect(roomy.options.get(6)?.length).toBe(280);
  });
});

describe('AuthoritativeHandler REQUEST (RFC 2131 4.3.2)', () => {
  it('SELECTING: ACKs the offered address and binds the lease', () => {
    const { send, leases, clock } = setup();
    send(request('udhcpc-discover'));
    const req = request('udhcpc-request');
    expect(view(send(req).reply!)).toEqual({
      ...replyTo(req), ciaddr: '0.0.0.0', yiaddr: '10.99.0.100', siaddr: '0.0.0.0', file: '',
      options: [[53, '05'], [54, '0a630001'], ...LEASE, [1, 'ffffff00'], [3, '0a630001'], [6, '0a630001'], [15, textHex('lab')], [28, '0a6300ff']],
    });
    expect(leases.get('10.99.0.100')).toMatchObject({ mac: '52:54:00:c0:ff:10', clientId: `01${UDHCPC_MAC}`, state: 'bound', expiresAt: clock.t + 3_600_000 });
  });

  it('SELECTING another server: stays silent and withdraws its own offer', () => {
    const { send, leases } = setup();
    send(request('udhcpc-discover'));
    expect(send(request('udhcpc-request', { set: { 54: '0a630002' } }))).toEqual({});
    expect(leases.get('10.99.0.100')).toBeUndefined();
  });

  it('NAKs an address held by another client, with the reason in option 56', () => {
    const { send } = setup();
    send(request('udhcpc-discover', { mac: '52:54:00:00:00:99' }));
    const req = request('udhcpc-request');
    expect(view(send(req).reply!)).toEqual({
      ...replyTo(req), ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', file: '',
      options: [[53, '06'], [54, '0a630001'], [56, textHex('address 10.99.0.100 is not available to this client')]],
    });
  });

  it('INIT-REBOOT: ACKs a free address in the range, NAKs one outside it', () => {
    const { send } = setup();
    expect(send(request('udhcpc-request', { remove: [54], set: { 50: '0a630082' } })).reply!.yiaddr).toBe('10.99.0.130');
    expect(send(request('udhcpc-request', { remove: [54], set: { 50: '0a6300c8' } })).reply!.options.get(53)).toEqual(Buffer.from([6]));
    expect(send(request('udhcpc-request', { remove: [54], set: { 50: '0a630001' } })).reply!.options.get(53)).toEqual(Buffer.from([6]));
  });

  it('INIT-REBOOT: NAKs a reserved client asking for anything but its reservation', () => {
    const { send } = setup({ reservations: [{ mac: '52:54:00:c0:ff:10', address: '10.99.0.10' }] });
    expect(send(request('udhcpc-request', { remove: [54] })).reply!.options.get(53)).toEqual(Buffer.from([6]));
    expect(send(request('udhcpc-request', { remove: [54], set: { 50: '0a63000a' } })).reply!.yiaddr).toBe('10.99.0.10');
  });

  it('RENEWING: ACKs with ciaddr echoed and extends the lease', () => {
    const { send, leases, clock } = setup();
    send(request('udhcpc-discover'));
    send(request('udhcpc-request'));
    clock.t += 1_800_000;
    const req = request('udhcpc-request', { remove: [50, 54], fields: { ciaddr: '10.99.0.100' } });
    const reply = send(req).reply!;
    expect([reply.ciaddr, reply.yiaddr, reply.options.get(53)]).toEqual(['10.99.0.100', '10.99.0.100', Buffer.from([5])]);
    expect(leases.get('10.99.0.100')?.expiresAt).toBe(clock.t + 3_600_000);
  });

  it('relayed NAK carries the broadcast bit and the relay address', () => {
    const { send } = setup();
    send(request('udhcpc-discover', { mac: '52:54:00:00:00:99' }));
    const reply = send(request('udhcpc-request', { fields: { giaddr: '10.99.5.1' } })).reply!;
    expect([reply.giaddr, reply.flags, reply.options.get(53)]).toEqual(['10.99.5.1', 0x8000, Buffer.from([6])]);
  });

  it('a request with neither option 50 nor ciaddr is dropped', () => {
    expect(setup().send(request('udhcpc-request', { remove: [50, 54] }))).toEqual({ dropped: 'request-without-address' });
  });
});

describe('AuthoritativeHandler DECLINE, RELEASE, INFORM', () => {
  it('DECLINE keeps the address out of the pool for a while, and the client gets another', () => {
    const { send, leases, clock } = setup();
    send(request('udhcpc-discover'));
    send(request('udhcpc-request'));
    expect(send(request('udhcpc-request', { set: { 53: '04' } }))).toEqual({});
    expect(leases.get('10.99.0.100')).toMatchObject({ mac: null, state: 'declined', expiresAt: clock.t + 600_000 });
    expect(send(request('udhcpc-discover')).reply!.yiaddr).toBe('10.99.0.101');
    expect(send(request('udhcpc-discover', { mac: '52:54:00:00:00:99' })).reply!.yiaddr).toBe('10.99.0.102');
    clock.t += 600_001;
    expect(send(request('udhcpc-discover', { mac: '52:54:00:00:00:98' })).reply!.yiaddr).toBe('10.99.0.103');
  });

  it('DECLINE of an address the client does not hold is ignored', () => {
    expect(setup().send(request('udhcpc-request', { set: { 53: '04' } }))).toEqual({ dropped: 'decline-not-ours' });
  });

  it('RELEASE frees the address at once; the row keeps it for the same client', () => {
    const { send, leases, clock } = setup({ range: { first: '10.99.0.100', last: '10.99.0.101' } });
    send(request('udhcpc-discover'));
    send(request('udhcpc-request'));
    expect(send(request('udhcpc-request', { set: { 53: '07' }, remove: [50], fields: { ciaddr: '10.99.0.100' } }))).toEqual({});
    expect(leases.get('10.99.0.100')?.expiresAt).toBe(clock.t);
    // Another client takes the never-used address first, the released one next.
    expect(send(request('udhcpc-discover', { mac: '52:54:00:00:00:99' })).reply!.yiaddr).toBe('10.99.0.101');
    expect(send(request('udhcpc-discover')).reply!.yiaddr).toBe('10.99.0.100');
  });

  it('INFORM is answered with configuration only: no yiaddr, no lease times (RFC 2131 4.3.5)', () => {
    const req = request('udhcpc-request', { set: { 53: '08' }, remove: [50, 54], fields: { ciaddr: '10.99.0.7' } });
    expect(view(setup().send(req).reply!)).toEqual({
      ...replyTo(req), ciaddr: '10.99.0.7', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', file: '',
      options: [[53, '05'], [54, '0a630001'], [1, 'ffffff00'], [3, '0a630001'], [6, '0a630001'], [15, textHex('lab')], [28, '0a6300ff']],
    });
  });
});

describe('AuthoritativeHandler leases over time', () => {
  it('a lease survives a new handler on the same database (server restart)', () => {
    const db = openDatabase(':memory:');
    const first = setup({}, db);
    first.send(request('udhcpc-discover', { mac: '52:54:00:00:00:99' }));
    first.send(request('udhcpc-discover'));
    first.send(request('udhcpc-request', { set: { 50: '0a630065' } }));
    const second = setup({}, db);
    expect(second.send(request('udhcpc-discover')).reply!.yiaddr).toBe('10.99.0.101');
    expect(second.send(request('udhcpc-request', { remove: [54], set: { 50: '0a630065' } })).reply!.options.get(53)).toEqual(Buffer.from([5]));
  });

  it('an expired lease goes to another client when nothing else is left', () => {
    const { send, clock } = setup({ range: { first: '10.99.0.100', last: '10.99.0.100' } });
    send(request('udhcpc-discover'));
    send(request('udhcpc-request'));
    expect(send(request('udhcpc-discover', { mac: '52:54:00:00:00:99' }))).toEqual({ dropped: 'pool-exhausted' });
    clock.t += 3_600_001;
    expect(send(request('udhcpc-discover', { mac: '52:54:00:00:00:99' })).reply!.yiaddr).toBe('10.99.0.100');
  });
});
