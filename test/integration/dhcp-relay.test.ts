/**
 * A client on another subnet, behind a real relay agent (dnsmasq in relay
 * mode): trowel sees giaddr, leases from the client's subnet, answers the
 * relay on port 67 (RFC 2131 4.1), and the client ends up bound.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, Netns } from '../../src/lab/netns.ts';
import { setMac, udhcpc } from '../helpers/dhcp-clients.ts';
import { startDhcpProcess, type DhcpProcess } from '../helpers/dhcp-harness.ts';

describe('DHCP through a relay agent', () => {
  let dir: string;
  const spaces: Netns[] = [];
  let client: Netns;
  let relay: ChildProcess | undefined;
  let trowel: DhcpProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trowel-relay-'));
    const server = await Netns.create();
    const router = await Netns.create();
    client = await Netns.create();
    spaces.push(client, router, server);
    await connect(server, 'eth0', '10.96.0.1/24', router, 'up0', '10.96.0.2/24');
    await connect(router, 'down0', '10.96.1.1/24', client, 'eth0', undefined);
    await server.ip('route', 'add', '10.96.1.0/24', 'via', '10.96.0.2');
    await router.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);

    let log = '';
    relay = router.spawn('dnsmasq', ['--no-daemon', '--port=0', '--conf-file=/dev/null', '--user=root', '--interface=down0', '--bind-dynamic',
      '--dhcp-relay=10.96.1.1,10.96.0.1', `--pid-file=${dir}/relay.pid`, '--log-dhcp', '--log-facility=-']);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dnsmasq relay did not start: ${log}`)), 10_000);
      relay!.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (/DHCP relay/i.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });

    const config = join(dir, 'trowel.yaml');
    writeFileSync(config, `listen: { address: 10.96.0.1 }
dhcp: { mode: authoritative, range: 10.96.1.100-10.96.1.120, router: 10.96.1.1, leaseTime: 10m }
http: { port: 8080 }
stateDir: state
`);
    trowel = await startDhcpProcess(server, config);
  });

  afterAll(async () => {
    await trowel?.stop();
    relay?.kill('SIGTERM');
    for (const ns of spaces) await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leases from the relayed subnet and replies to the relay', async () => {
    await setMac(client, 'eth0', '52:54:00:cc:00:01');
    expect(await udhcpc(client, 'eth0', dir, 'relayed')).toMatchObject({ ip: '10.96.1.100', router: '10.96.1.1', serverid: '10.96.0.1' });
    const replies = trowel!.records.filter((r) => r.event === 'dhcp.reply' && r.mac === '52:54:00:cc:00:01');
    expect(replies.map((r) => [r.type, r.to])).toEqual([['offer', '10.96.1.1:67'], ['ack', '10.96.1.1:67']]);
  });
});
