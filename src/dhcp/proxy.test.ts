import { describe, expect, it } from 'vitest';
import { view } from '../../test/helpers/dhcp-fixtures.ts';
import { BOOT, request, textHex } from '../../test/helpers/dhcp-requests.ts';
import { silentLogger } from '../log/logger.ts';
import { ProxyHandler } from './proxy.ts';

const proxy = new ProxyHandler({ boot: BOOT, log: silentLogger });

describe('ProxyHandler (PXE 2.1 proxyDHCP)', () => {
  it('answers EDK2 UEFI firmware on port 67 with an address-less OFFER naming ipxe.efi', () => {
    const req = request('edk2-uefi-discover');
    expect(view(proxy.handle(req).reply!)).toEqual({
      op: 2, htype: 1, hlen: 6, hops: 0, xid: req.packet.xid, secs: 0, flags: 0x8000,
      ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '10.99.0.1', giaddr: '0.0.0.0',
      chaddr: req.packet.chaddr.toString('hex'), sname: '', file: 'ipxe.efi',
      // EDK2 asks for ... 43 ... 60 66 67 97 ...: they come in its order.
      options: [[53, '02'], [54, '0a630001'], [43, '060108ff'], [60, textHex('PXEClient')], [66, textHex('10.99.0.1')], [67, textHex('ipxe.efi')], [97, '0033221100554477668899aabbccddeeff']],
    });
  });

  it('answers a REQUEST on port 4011 with an ACK echoing ciaddr', () => {
    const req = request('edk2-uefi-request', { remove: [50, 54], fields: { ciaddr: '10.99.0.57' } }, 'pxe');
    const reply = view(proxy.handle(req).reply!);
    expect(reply).toMatchObject({ ciaddr: '10.99.0.57', yiaddr: '0.0.0.0', siaddr: '10.99.0.1', file: 'ipxe.efi' });
    expect(reply.options.slice(0, 2)).toEqual([[53, '05'], [54, '0a630001']]);
  });

  it('leaves a REQUEST on port 67 to the DHCP server that made the offer', () => {
    expect(proxy.handle(request('edk2-uefi-request'))).toEqual({});
  });

  it('never answers clients that are not PXE or HTTP boot firmware', () => {
    expect(proxy.handle(request('dhclient-discover'))).toEqual({ dropped: 'not-pxe' });
    expect(proxy.handle(request('udhcpc-discover'))).toEqual({ dropped: 'not-pxe' });
    expect(proxy.handle(request('udhcpc-discover', { set: { 77: textHex('iPXE') } }))).toEqual({ dropped: 'not-pxe' });
  });

  it('answers UEFI HTTP boot with the URL and option 60 HTTPClient, without PXE option 43', () => {
    const reply = proxy.handle(request('edk2-uefi-discover', { set: { 60: textHex('HTTPClient:Arch:00016:UNDI:003000'), 93: '0010' } })).reply!;
    expect(reply.file).toBe('http://10.99.0.1:8080/boot/files/ipxe.efi');
    expect(reply.options.get(60)?.toString()).toBe('HTTPClient');
    expect(reply.options.has(43)).toBe(false);
  });

  it('drops PXE firmware of an architecture it has no binary for', () => {
    expect(proxy.handle(request('edk2-uefi-discover', { set: { 93: '0063' } }))).toEqual({ dropped: 'no-boot-file' });
  });
});
