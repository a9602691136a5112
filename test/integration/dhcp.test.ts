/**
 * trowel's authoritative DHCP server in one namespace, Debian's real clients
 * in another, joined by a veth: dhclient and busybox udhcpc get leases with
 * the configured options, a reservation is honoured, and a lease survives a
 * server restart (dhclient's INIT-REBOOT is ACKed with the same address, and
 * nobody else was given it meanwhile).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, Netns } from '../../src/lab/netns.ts';
import { dhclient, setMac, udhcpc } from '../helpers/dhcp-clients.ts';
import { startDhcpProcess, type DhcpProcess } from '../helpers/dhcp-harness.ts';

describe('authoritative DHCP against real clients', () => {
  let dir: string;
  let server: Netns;
  let client: Netns;
  let dhcp: DhcpProcess | undefined;
  let config: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trowel-dhcp-'));
    server = await Netns.create();
    client = await Netns.create();
    await connect(server, 'eth0', '10.98.0.1/24', client, 'eth0', undefined);
    config = join(dir, 'trowel.yaml');
    writeFileSync(config, `listen: { interface: eth0, address: 10.98.0.1 }
dhcp:
  mode: authoritative
  range: 10.98.0.100-10.98.0.120
  leaseTime: 10m
  router: 10.98.0.1
  dns: [10.98.0.1]
  domain: lab.example
  reservations: [{ mac: "52:54:00:aa:00:50", address: 10.98.0.50, hostname: node1 }]
http: { port: 8080 }
stateDir: state
`);
    dhcp = await startDhcpProcess(server, config);
  });

  afterAll(async () => {
    await dhcp?.stop();
    await client?.destroy();
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dhclient gets a lease with netmask, router, DNS and domain', async () => {
    await setMac(client, 'eth0', '52:54:00:aa:00:01');
    const lease = await dhclient(client, 'eth0', dir, 'dhclient-a');
    expect(lease).toMatchObject({
      event: 'BOUND', new_ip_address: '10.98.0.100', new_subnet_mask: '255.255.255.0', new_routers: '10.98.0.1',
      new_domain_name_servers: '10.98.0.1', new_domain_name: 'lab.example', new_dhcp_lease_time: '600', new_dhcp_server_identifier: '10.98.0.1',
    });
    await dhcp!.waitFor((r) => r.event === 'dhcp.reply' && r.mac === '52:54:00:aa:00:01' && r.type === 'ack');
  });

  it('busybox udhcpc gets a lease', async () => {
    await setMac(client, 'eth0', '52:54:00:aa:00:02');
    const lease = await udhcpc(client, 'eth0', dir, 'udhcpc-b');
    expect(lease).toMatchObject({ ip: '10.98.0.101', subnet: '255.255.255.0', router: '10.98.0.1', dns: '10.98.0.1', domain: 'lab.example', lease: '600', serverid: '10.98.0.1' });
  });

  it('honours a reservation, hostname included', async () => {
    await setMac(client, 'eth0', '52:54:00:aa:00:50');
    expect(await udhcpc(client, 'eth0', dir, 'udhcpc-r')).toMatchObject({ ip: '10.98.0.50', hostname: 'node1' });
  });

  it('keeps a lease across a server restart: INIT-REBOOT is ACKed with the same address', async () => {
    await setMac(client, 'eth0', '52:54:00:aa:00:03');
    const first = await dhclient(client, 'eth0', dir, 'dhclient-c');
    expect(first).toMatchObject({ event: 'BOUND', new_ip_address: '10.98.0.102' });

    await dhcp!.stop();
    dhcp = await startDhcpProcess(server, config);
    // Another machine after the restart must not be handed the address.
    await setMac(client, 'eth0', '52:54:00:aa:00:04');
    expect((await udhcpc(client, 'eth0', dir, 'udhcpc-d')).ip).toBe('10.98.0.103');

    await setMac(client, 'eth0', '52:54:00:aa:00:03');
    const again = await dhclient(client, 'eth0', dir, 'dhclient-c');
    expect(again).toMatchObject({ event: 'REBOOT', new_ip_address: '10.98.0.102' });
    const replies = dhcp!.records.filter((r) => r.event === 'dhcp.reply' && r.mac === '52:54:00:aa:00:03');
    // dhclient may resend its REQUEST on a loaded machine: every answer must be that ACK.
    expect(replies.length).toBeGreaterThan(0);
    expect(new Set(replies.map((r) => `${r.type} ${r.ip}`))).toEqual(new Set(['ack 10.98.0.102']));
  });
});
