import { describe, expect, it } from 'vitest';
import { parseConfig } from './index.ts';

const minimal = `listen: { address: 10.0.0.1 }\n`;

describe('parseConfig', () => {
  it('applies defaults to a minimal file', () => {
    const c = parseConfig(minimal, '/etc/trowel/trowel.yaml');
    expect(c.dhcp.mode).toBe('proxy');
    expect(c.dhcp.leaseTimeSeconds).toBe(3600);
    expect(c.tftp.root).toBe('/var/lib/trowel/tftp');
    expect(c.http.port).toBe(8080);
  });

  it('reads the full example from the README', () => {
    const c = parseConfig(`
listen: { interface: br0, address: 10.0.0.1 }
dhcp:
  mode: authoritative
  range: 10.0.0.100-10.0.0.199
  leaseTime: 1h
  router: 10.0.0.1
  dns: [10.0.0.1]
  reservations: [{ mac: "52-54-00-00-00-01", address: 10.0.0.50, hostname: node1 }]
tftp: { root: /srv/tftp }
http: { port: 8080 }
stateDir: /var/lib/trowel
`);
    expect(c.dhcp.range).toEqual({ first: '10.0.0.100', last: '10.0.0.199' });
    expect(c.dhcp.reservations).toEqual([{ mac: '52:54:00:00:00:01', address: '10.0.0.50', hostname: 'node1' }]);
    expect(c.listen.interface).toBe('br0');
  });

  it('rejects an unknown key with its line and a suggestion', () => {
    expect(() => parseConfig(`${minimal}dhcp:\n  mode: proxy\n  leasetime: 1h\n`, 't.yaml')).toThrow(
      't.yaml:4:3: unknown key "dhcp.leasetime" (did you mean "dhcp.leaseTime"?)',
    );
  });

  it('rejects a bad enum value with a suggestion', () => {
    expect(() => parseConfig(`${minimal}dhcp: { mode: proxi }\n`, 't.yaml')).toThrow(/t\.yaml:2:15: dhcp\.mode must be one of .* \(did you mean "proxy"\?\)/);
  });

  it('requires a range in authoritative mode', () => {
    expect(() => parseConfig(`${minimal}dhcp: { mode: authoritative }\n`, 't.yaml')).toThrow('dhcp.range is required');
  });

  it('rejects a backwards range, a bad address and a bad duration', () => {
    expect(() => parseConfig(`${minimal}dhcp: { range: 10.0.0.9-10.0.0.1 }\n`)).toThrow('dhcp.range must look like');
    expect(() => parseConfig(`listen: { address: 10.0.0.300 }\n`)).toThrow('listen.address must be an IPv4 address');
    expect(() => parseConfig(`${minimal}dhcp: { leaseTime: soon }\n`)).toThrow('dhcp.leaseTime must be a duration');
  });

  it('reports YAML syntax errors with a position', () => {
    expect(() => parseConfig(`listen: { address: 10.0.0.1\n`, 'x.yaml')).toThrow(/^x\.yaml:\d+:\d+: /);
  });

  it('rejects a duplicate reservation', () => {
    const text = `${minimal}dhcp:\n  reservations:\n    - { mac: "52:54:00:00:00:01", address: 10.0.0.5 }\n    - { mac: "52:54:00:00:00:01", address: 10.0.0.6 }\n`;
    expect(() => parseConfig(text)).toThrow('lists 52:54:00:00:00:01 twice');
  });
});
