import { describe, expect, it } from 'vitest';
import type { NetworkInterfaceInfo } from 'node:os';
import { checkListenAddress } from './listen-check.ts';

const v4 = (address: string) => ({ address, family: 'IPv4', netmask: '255.255.255.0', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/24` }) as NetworkInterfaceInfo;
const interfaces = { lo: [v4('127.0.0.1')], br0: [v4('10.0.0.1')] };

describe('checkListenAddress', () => {
  it('accepts an address on the named interface', () => {
    expect(() => checkListenAddress({ interface: 'br0', address: '10.0.0.1' }, interfaces)).not.toThrow();
  });
  it('refuses an address no interface has, listing the ones there are', () => {
    expect(() => checkListenAddress({ address: '10.9.9.9' }, interfaces)).toThrow('Cannot serve on 10.9.9.9: no interface of this host has that address');
  });
  it('refuses an address that sits on another interface', () => {
    expect(() => checkListenAddress({ interface: 'eth0', address: '10.0.0.1' }, interfaces)).toThrow('10.0.0.1 is on br0, not on eth0');
  });
});
