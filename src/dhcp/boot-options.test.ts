import { describe, expect, it } from 'vitest';
import { view } from '../../test/helpers/dhcp-fixtures.ts';
import { BOOT, dhcpConfig, request, textHex } from '../../test/helpers/dhcp-requests.ts';
import { createLogger, LogLevel, silentLogger, type LogRecord } from '../log/logger.ts';
import { openDatabase } from '../store/index.ts';
import { AuthoritativeHandler } from './authoritative.ts';
import { bootModifier } from './boot-options.ts';
import { LeaseStore } from './leases.ts';
import { ProxyHandler } from './proxy.ts';
import { describeBootClient, type BootTargets } from './pxe.ts';

const UUID = [97, '0033221100554477668899aabbccddeeff'] as [number, string];

describe('bootModifier for a machine whose boot action is local', () => {
  const logs: LogRecord[] = [];
  const log = createLogger('dhcp', (r) => logs.push(r), LogLevel.debug);
  const local = { ...BOOT, netboot: () => false };
  const modifier = (fixture: string, boot: BootTargets, change = {}) => {
    const req = request(fixture, change);
    return bootModifier(req, describeBootClient(req.packet), boot, log);
  };

  it('gives x86-64 UEFI firmware (arch 7 and 9) GRUB\'s network image, and says so', () => {
    expect(modifier('edk2-uefi-discover', local)).toBeDefined();
    expect(logs.at(-1)).toMatchObject({ event: 'dhcp.boot_local', mac: '52:54:00:c0:ff:03', arch: 7, file: 'grubnetx64.efi' });
    expect(modifier('edk2-uefi-discover', local, { set: { 93: '0009' } })).toBeDefined();
    expect(logs.at(-1)).toMatchObject({ arch: 9, file: 'grubnetx64.efi' });
  });

  it('gives no boot file when the TFTP root lacks GRUB, or to firmware GRUB is not for, so it boots its disk', () => {
    expect(modifier('edk2-uefi-discover', { ...local, tftpHas: (f: string) => f !== 'grubnetx64.efi' })).toBeUndefined();
    expect(logs.at(-1)).toMatchObject({ event: 'dhcp.boot_local', reason: 'boot action is local: no boot file' });
    expect(logs.at(-1)).not.toHaveProperty('file');
    // BIOS (its iPXE ROM handles local itself), arm64, and UEFI HTTP boot.
    expect(modifier('edk2-uefi-discover', local, { set: { 93: '0000' } })).toBeUndefined();
    expect(modifier('edk2-uefi-discover', local, { set: { 93: '000b' } })).toBeUndefined();
    expect(modifier('edk2-uefi-discover', local, { set: { 60: textHex('HTTPClient:Arch:00016:UNDI:003000'), 93: '0010' } })).toBeUndefined();
  });

  it('still gives iPXE its script URL (the script itself says boot local)', () => {
    expect(modifier('ipxe-bios-discover', local)).toBeDefined();
    expect(modifier('ipxe-uefi-discover', local)).toBeDefined();
  });
});

describe('a local x86-64 UEFI machine\'s whole reply', () => {
  const boot = { ...BOOT, netboot: () => false, tftpHas: () => true };
  const common = (xid: number) => ({
    op: 2, htype: 1, hlen: 6, hops: 0, xid, secs: 0, flags: 0x8000, ciaddr: '0.0.0.0',
    siaddr: '10.99.0.1', giaddr: '0.0.0.0', chaddr: '525400c0ff0300000000000000000000', sname: '', file: 'grubnetx64.efi',
  });
  // The boot options as EDK2 asked for them (its list: ... 43 ... 60 66 67 97 ...).
  const bootOptions: [number, string][] = [[43, '060108ff'], [60, textHex('PXEClient')], [66, textHex('10.99.0.1')], [67, textHex('grubnetx64.efi')], UUID];

  it('authoritative: an OFFER of an address naming grubnetx64.efi over TFTP', () => {
    const handler = new AuthoritativeHandler({ config: dhcpConfig(), boot, leases: new LeaseStore(openDatabase(':memory:')), log: silentLogger });
    const req = request('edk2-uefi-discover');
    expect(view(handler.handle(req).reply!)).toEqual({
      ...common(req.packet.xid), yiaddr: '10.99.0.100',
      options: [
        [53, '02'], [54, '0a630001'], [51, '00000e10'], [58, '00000708'], [59, '00000c4e'],
        [1, 'ffffff00'], [3, '0a630001'], [6, '0a630001'], [15, textHex('lab')], [28, '0a6300ff'], ...bootOptions,
      ],
    });
  });

  it('proxy: an address-less OFFER naming grubnetx64.efi over TFTP', () => {
    const req = request('edk2-uefi-discover');
    expect(view(new ProxyHandler({ boot, log: silentLogger }).handle(req).reply!)).toEqual({
      ...common(req.packet.xid), yiaddr: '0.0.0.0',
      options: [[53, '02'], [54, '0a630001'], ...bootOptions],
    });
  });

  it('the same machine set to provision still gets ipxe.efi', () => {
    const req = request('edk2-uefi-discover');
    const reply = new ProxyHandler({ boot: { ...boot, netboot: () => true }, log: silentLogger }).handle(req).reply!;
    expect(reply.file).toBe('ipxe.efi');
  });
});
