import { describe, expect, it } from 'vitest';
import { hex, loadFixture } from '../../test/helpers/dhcp-fixtures.ts';
import { WireError } from '../wire/index.ts';
import { parseDhcpPacket } from './codec.ts';
import type { DhcpPacket } from './packet.ts';
import {
  clientArch, clientId, clientMac, clientUuid, hostname, ipxeOptions, maxMessageSize, messageType,
  parameterRequestList, requestedAddress, serverIdentifier, userClasses, vendorClass,
} from './packet.ts';

const fixture = (name: string) => parseDhcpPacket(loadFixture(name));
const withOptions = (entries: [number, string][]): DhcpPacket => ({
  ...fixture('udhcpc-discover'),
  options: new Map(entries.map(([k, v]) => [k, hex(v)])),
});

describe('packet accessors on real captures', () => {
  it('dhclient DISCOVER: type, MAC, parameter request list in the order sent, no PXE bits', () => {
    const p = fixture('dhclient-discover');
    expect(messageType(p)).toBe(1);
    expect(clientMac(p)).toBe('52:54:00:c0:ff:10');
    expect(parameterRequestList(p)).toEqual([1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]);
    expect([vendorClass(p), clientArch(p), clientUuid(p), maxMessageSize(p)]).toEqual([undefined, undefined, undefined, undefined]);
    expect(userClasses(p)).toEqual([]);
  });

  it('udhcpc REQUEST: server id, requested address, client id, vendor class, max size', () => {
    const p = fixture('udhcpc-request');
    expect(messageType(p)).toBe(3);
    expect(serverIdentifier(p)).toBe('10.99.0.1');
    expect(requestedAddress(p)).toBe('10.99.0.100');
    expect(clientId(p)).toBe('01525400c0ff10');
    expect(vendorClass(p)).toBe('udhcp 1.35.0');
    expect(maxMessageSize(p)).toBe(576);
  });

  it('iPXE BIOS DISCOVER: arch 0, PXEClient class, bare "iPXE" user class, option 175, SMBIOS UUID', () => {
    const p = fixture('ipxe-bios-discover');
    expect(clientMac(p)).toBe('52:54:00:c0:ff:01');
    expect(clientArch(p)).toBe(0);
    expect(vendorClass(p)).toBe('PXEClient:Arch:00000:UNDI:002001');
    expect(userClasses(p)).toEqual(['iPXE']);
    // QEMU ran with -uuid 00112233-4455-6677-8899-aabbccddeeff; firmware sends 33221100 55447766 ...
    expect(clientUuid(p)).toBe('00112233-4455-6677-8899-aabbccddeeff');
    expect(maxMessageSize(p)).toBe(1472);
    const ipxe = ipxeOptions(p)!;
    expect(ipxe.get(0x13)).toEqual(hex('01')); // HTTP support
    expect(ipxe.get(0xb1)).toEqual(hex('011af41000')); // bus id: PCI 1af4:1000 (virtio-net)
  });

  it('iPXE UEFI and EDK2 DISCOVERs: arch 7; EDK2 is PXE but not iPXE and sets the broadcast flag', () => {
    expect(clientArch(fixture('ipxe-uefi-discover'))).toBe(7);
    const edk2 = fixture('edk2-uefi-discover');
    expect(clientArch(edk2)).toBe(7);
    expect(vendorClass(edk2)).toBe('PXEClient:Arch:00007:UNDI:003000');
    expect(userClasses(edk2)).toEqual([]);
    expect(ipxeOptions(edk2)).toBeUndefined();
    expect(clientUuid(edk2)).toBe('00112233-4455-6677-8899-aabbccddeeff');
    expect(edk2.flags).toBe(0x8000);
  });
});

describe('packet accessors on edge cases', () => {
  it('userClasses reads RFC 3004 length-prefixed entries', () => {
    expect(userClasses(withOptions([[77, '04 69505845 03 616263']]))).toEqual(['iPXE', 'abc']);
  });

  it('text options drop a trailing NUL', () => {
    expect(hostname(withOptions([[12, '6e6f646531 00']]))).toBe('node1');
  });

  it('clientMac is undefined for a non-Ethernet chaddr', () => {
    expect(clientMac({ ...fixture('udhcpc-discover'), htype: 6 })).toBeUndefined();
  });

  it.each([
    ['option 53 of two bytes', () => messageType(withOptions([[53, '0101']])), /option 53: length 2, expected 1/],
    ['option 93 of odd length', () => clientArch(withOptions([[93, '000700']])), /option 93/],
    ['option 97 of the wrong length', () => clientUuid(withOptions([[97, '00 0102']])), /option 97/],
    ['option 175 with a sub-option past the end', () => ipxeOptions(withOptions([[175, '13 05 01']])), /option 175/],
    ['option 54 of three bytes', () => serverIdentifier(withOptions([[54, '0a0000']])), /option 54/],
  ])('throws WireError for %s', (_what, read, message) => {
    expect(read).toThrow(WireError);
    expect(read).toThrow(message);
  });
});
