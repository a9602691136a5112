/**
 * `trowel serve` as a whole, in a namespace: one DHCP client gets an address
 * and then fetches its iPXE script over HTTP and iPXE over TFTP from the same
 * process; metrics count all three; startup errors are one clear line.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, Netns } from '../../src/lab/netns.ts';
import { CLI, startServe, type ServeProcess } from '../../src/lab/serve-process.ts';

const pexec = promisify(execFile);

describe('trowel serve', () => {
  let dir: string;
  let server: Netns;
  let client: Netns;
  let serve: ServeProcess | undefined;
  let configFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trowel-serve-'));
    server = await Netns.create();
    client = await Netns.create();
    await connect(server, 'eth0', '10.78.0.1/24', client, 'eth0', undefined);
    mkdirSync(join(dir, 'tftp'));
    mkdirSync(join(dir, 'http'));
    writeFileSync(join(dir, 'tftp/undionly.kpxe'), readFileSync('/usr/lib/ipxe/undionly.kpxe'));
    writeFileSync(join(dir, 'http/vmlinuz'), 'kernel-bytes');
    configFile = join(dir, 'trowel.yaml');
    writeFileSync(
      configFile,
      `listen: { interface: eth0, address: 10.78.0.1 }
dhcp: { mode: authoritative, range: 10.78.0.100-10.78.0.110, router: 10.78.0.1, leaseTime: 10m }
tftp: { root: tftp }
http: { port: 8080, root: http }
boot: { kernel: vmlinuz, initrd: initramfs, args: console=ttyS0 }
stateDir: state
`,
    );
    serve = await startServe(server, configFile, { logFile: join(dir, 'serve.log') });
  });

  afterAll(async () => {
    await serve?.stop();
    await client?.destroy();
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers DHCP, HTTP and TFTP from one process and counts them in /metrics', async () => {
    const script = join(dir, 'udhcpc.sh');
    writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && echo "LEASE ip=$ip siaddr=$siaddr boot_file=$boot_file" > ${dir}/lease.txt\nexit 0\n`, { mode: 0o755 });
    await client.exec('busybox', ['udhcpc', '-f', '-q', '-n', '-t', '5', '-T', '2', '-i', 'eth0', '-V', 'PXEClient:Arch:00000:UNDI:002001', '-s', script], { timeoutMs: 30_000 });
    const lease = readFileSync(join(dir, 'lease.txt'), 'utf8');
    expect(lease).toMatch(/^LEASE ip=10\.78\.0\.1(0\d|10) siaddr=10\.78\.0\.1 boot_file=undionly\.kpxe$/m);
    const ip = /ip=(\S+)/.exec(lease)![1]!;
    await client.ip('addr', 'add', `${ip}/24`, 'dev', 'eth0');

    const mac = (await client.exec('cat', ['/sys/class/net/eth0/address'])).stdout.trim();
    const ipxe = await client.exec('curl', ['-sf', `http://10.78.0.1:8080/boot/ipxe?mac=${mac}`]);
    expect(ipxe.stdout).toMatch(/^#!ipxe\n/);
    expect(ipxe.stdout).toContain(`kernel http://10.78.0.1:8080/boot/files/vmlinuz initrd=initramfs trowel.server=http://10.78.0.1:8080 trowel.mac=${mac}`);

    const fetched = join(dir, 'fetched.kpxe');
    await client.exec('curl', ['-sf', '-o', fetched, 'tftp://10.78.0.1/undionly.kpxe']);
    expect(readFileSync(fetched).equals(readFileSync('/usr/lib/ipxe/undionly.kpxe'))).toBe(true);

    const machine = JSON.parse((await client.exec('curl', ['-sf', `http://10.78.0.1:8080/api/v1/machines/${mac}`])).stdout);
    expect(JSON.stringify(machine)).toContain(ip);
    expect(JSON.stringify(machine)).not.toMatch(/token/i);

    const metrics = (await client.exec('curl', ['-sf', 'http://10.78.0.1:8080/metrics'])).stdout;
    expect(metrics).toMatch(/trowel_dhcp_packets_total\{direction="in",type="discover"\} [1-9]/);
    expect(metrics).toMatch(/trowel_dhcp_packets_total\{direction="out",type="ack"\} [1-9]/);
    expect(metrics).toMatch(/trowel_tftp_transfers_total\{result="ok"\} 1/);
    expect(metrics).toMatch(/trowel_http_requests_total\{[^}]*status="200"[^}]*\} [1-9]/);
  });

  it('refuses a second server on the same ports with one clear line', async () => {
    const second = await server.exec(process.execPath, [CLI, 'serve', '--config', configFile], { okCodes: [1] });
    expect(second.stderr.trim()).toMatch(/^trowel: Cannot start (HTTP|TFTP|DHCP): port \d+ is already in use \(stop the other server/);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a config with a typo, naming file, line and the fix', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'listen: { address: 10.78.0.1 }\nhttp: { prot: 8080 }\n');
    const r = await pexec(process.execPath, [CLI, 'serve', '--config', bad]).catch((e: { code: number; stderr: string }) => e);
    expect(r).toMatchObject({ code: 1 });
    expect((r as { stderr: string }).stderr).toBe(`trowel: ${bad}:2:9: unknown key "http.prot" (did you mean "http.port"?)\n`);
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await serve!.stop()).toBe(0);
    expect(serve!.records.some((r) => r.event === 'serve.stopped')).toBe(true);
    serve = undefined;
  });
});
