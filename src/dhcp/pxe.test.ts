import { describe, expect, it } from 'vitest';
import { loadFixture } from '../../test/helpers/dhcp-fixtures.ts';
import { parseDhcpPacket } from './codec.ts';
import { chooseBoot, chooseLocalBoot, describeBootClient, isBootClient, type BootClient } from './pxe.ts';

const boot = { serverAddress: '10.0.0.1', httpPort: 8080 };
const MAC = '52:54:00:00:00:01';
const firmware = (arch: number | undefined, kind: 'pxe' | 'http' = 'pxe'): BootClient => ({ pxe: kind === 'pxe', http: kind === 'http', ipxe: false, arch, uuid: undefined });

describe('describeBootClient', () => {
  it('tells plain DHCP clients, PXE firmware and iPXE apart from real captures', () => {
    const of = (name: string) => describeBootClient(parseDhcpPacket(loadFixture(name)));
    expect(of('dhclient-discover')).toMatchObject({ pxe: false, http: false, ipxe: false });
    expect(isBootClient(of('udhcpc-discover'))).toBe(false);
    expect(of('edk2-uefi-discover')).toMatchObject({ pxe: true, ipxe: false, arch: 7 });
    expect(of('ipxe-bios-discover')).toMatchObject({ pxe: true, ipxe: true, arch: 0 });
  });
});

describe('chooseBoot', () => {
  it.each([
    [0, 'undionly.kpxe'],
    [6, 'ipxe-i386.efi'],
    [7, 'ipxe.efi'],
    [9, 'ipxe.efi'],
    [11, 'snp-arm64.efi'],
  ])('gives PXE firmware of arch %i the TFTP file %s', (arch, file) => {
    expect(chooseBoot(firmware(arch), MAC, boot)).toEqual({ file, vendorClass: 'PXEClient' });
  });

  it('gives UEFI HTTP boot (arch 16) the URL of ipxe.efi and option 60 HTTPClient', () => {
    expect(chooseBoot(firmware(16, 'http'), MAC, boot)).toEqual({ file: 'http://10.0.0.1:8080/boot/files/ipxe.efi', vendorClass: 'HTTPClient' });
  });

  it('gives iPXE the per-MAC script URL whatever its arch, so it never chainloads itself', () => {
    for (const arch of [0, 7, undefined]) {
      expect(chooseBoot({ ...firmware(arch), ipxe: true }, MAC, boot)).toEqual({ file: 'http://10.0.0.1:8080/boot/ipxe?mac=52:54:00:00:00:01', vendorClass: 'PXEClient' });
    }
  });

  it('gives nothing for an unknown arch, a PXE arch sent as HTTPClient, or a non-boot client', () => {
    expect(chooseBoot(firmware(99), MAC, boot)).toBeUndefined();
    expect(chooseBoot(firmware(7, 'http'), MAC, boot)).toBeUndefined();
    expect(chooseBoot({ pxe: false, http: false, ipxe: false, arch: 0, uuid: undefined }, MAC, boot)).toBeUndefined();
  });

  it('treats PXE firmware without option 93 as BIOS', () => {
    expect(chooseBoot(firmware(undefined), MAC, boot)?.file).toBe('undionly.kpxe');
  });
});

describe('chooseLocalBoot', () => {
  it('gives x86-64 UEFI PXE firmware (arch 7, 9) GRUB\'s network image', () => {
    for (const arch of [7, 9]) expect(chooseLocalBoot(firmware(arch), boot)).toEqual({ file: 'grubnetx64.efi', vendorClass: 'PXEClient' });
  });

  it('gives nothing when the TFTP root lacks it', () => {
    expect(chooseLocalBoot(firmware(7), { ...boot, tftpHas: () => false })).toBeUndefined();
    expect(chooseLocalBoot(firmware(7), { ...boot, tftpHas: (f) => f === 'grubnetx64.efi' })?.file).toBe('grubnetx64.efi');
  });

  it('gives nothing to BIOS, IA32 or arm64 firmware, HTTP boot, iPXE or a PXE client without option 93', () => {
    for (const arch of [0, 6, 11]) expect(chooseLocalBoot(firmware(arch), boot)).toBeUndefined();
    expect(chooseLocalBoot(firmware(16, 'http'), boot)).toBeUndefined();
    expect(chooseLocalBoot({ ...firmware(7), ipxe: true }, boot)).toBeUndefined();
    expect(chooseLocalBoot(firmware(undefined), boot)).toBeUndefined();
  });
});
