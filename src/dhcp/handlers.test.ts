/**
 * What both policies must do the same way for boot clients, run against
 * each (hono's shared-suite pattern): the boot file, the options firmware
 * needs to accept the offer, and silence for message types they don't serve.
 */
import { describe, expect, it } from 'vitest';
import { BOOT, dhcpConfig, request } from '../../test/helpers/dhcp-requests.ts';
import { silentLogger } from '../log/logger.ts';
import { openDatabase } from '../store/index.ts';
import { AuthoritativeHandler } from './authoritative.ts';
import type { Handler } from './handler.ts';
import { LeaseStore } from './leases.ts';
import { ProxyHandler } from './proxy.ts';

const implementations: [string, () => Handler][] = [
  ['authoritative', () => new AuthoritativeHandler({ config: dhcpConfig(), boot: BOOT, leases: new LeaseStore(openDatabase(':memory:')), log: silentLogger })],
  ['proxy', () => new ProxyHandler({ boot: BOOT, log: silentLogger })],
];

describe.each(implementations)('%s handler, boot clients', (_name, make) => {
  it.each([
    ['ipxe-bios-discover', 'http://10.99.0.1:8080/boot/ipxe?mac=52:54:00:c0:ff:01'],
    ['ipxe-uefi-discover', 'http://10.99.0.1:8080/boot/ipxe?mac=52:54:00:c0:ff:02'],
    ['edk2-uefi-discover', 'ipxe.efi'],
    ['ipxe-bios-discover|77=', 'undionly.kpxe'],
  ])('%s gets %s in an OFFER from our server id, with 60, 43 and 97 echoed', (name, file) => {
    const [fixture, strip] = name.split('|');
    const req = request(fixture!, strip ? { remove: [77, 175] } : {});
    const reply = make().handle(req).reply!;
    expect(reply.options.get(53)).toEqual(Buffer.from([2]));
    expect(reply.options.get(54)).toEqual(Buffer.from([10, 99, 0, 1]));
    expect([reply.siaddr, reply.file]).toEqual(['10.99.0.1', file]);
    expect(reply.options.get(60)?.toString()).toBe('PXEClient');
    expect(reply.options.get(43)).toEqual(Buffer.from([6, 1, 8, 255]));
    expect(reply.options.get(97)).toEqual(req.packet.options.get(97));
  });

  it('answers no unexpected message type', () => {
    const reply = make().handle(request('ipxe-bios-discover', { set: { 53: '02' } }));
    expect(reply.reply).toBeUndefined();
  });
});
