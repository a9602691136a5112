import { describe, expect, it } from 'vitest';
import { serverFromLease } from './lease.ts';

describe('serverFromLease', () => {
  it('takes the next-server, else the DHCP server id, on trowel\'s default port', () => {
    expect(serverFromLease('interface=eth0\nip=10.0.0.50\nsiaddr=10.0.0.1\nserverid=10.0.0.254\n')).toBe('http://10.0.0.1:8080');
    expect(serverFromLease('interface=eth0\nsiaddr=\nserverid=10.0.0.254\n')).toBe('http://10.0.0.254:8080');
    expect(serverFromLease('siaddr=0.0.0.0\n')).toBeUndefined();
    expect(serverFromLease('')).toBeUndefined();
  });
});
