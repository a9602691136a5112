/**
 * The product's main job, end to end under real firmware: a VM with a blank
 * disk PXE-boots trowel's image, provisions the demo Debian template
 * unattended, reboots, is told "boot local" by the server, and boots the
 * deployed OS from its own disk, which prints a marker with the hostname
 * from the plan. Then the failure cases: a disk holding data without
 * `wipe`, a tampered stream, and a machine powered off mid-receive.
 *
 * Everything runs under TCG on a shared 2-core machine: a provisioning run
 * takes several minutes, hence the long waits.
 */
import { readdir, readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoTemplate, defaultCacheDir, DEFAULT_WORK_DIR, DEMO_TEMPLATE_NAME, publishDemoTemplate } from '../../appliance/demo-template/build.ts';
import { buildPxeImage } from '../../appliance/pxe/build.ts';
import { SERVER_URL, startLab, type Lab } from '../../src/lab/lab.ts';
import { SOURCE_CLI } from '../../src/lab/self.ts';
import type { Vm, VmOptions } from '../../src/lab/qemu.ts';
import { TemplatePool } from '../../src/pool/index.ts';
import { TmuxSession } from '../helpers/tmux.ts';

const PROVISION_TIMEOUT_MS = 20 * 60_000;
const FAIL_TIMEOUT_MS = 8 * 60_000;
const deployedMarker = (hostname: string) => new RegExp(`TROWEL-DEPLOYED-OS-BOOTED hostname=${hostname} template=${DEMO_TEMPLATE_NAME.replace(/\./g, '\\.')}`);

interface EventView { step?: string; state?: string; kind: string; error?: string }

describe('unattended provisioning (QEMU, TCG)', () => {
  let lab: Lab | undefined;
  const running: Vm[] = [];

  beforeAll(async () => {
    const [pxe, demo] = await Promise.all([
      buildPxeImage(),
      buildDemoTemplate({ workDir: DEFAULT_WORK_DIR, cacheDir: defaultCacheDir() }),
    ]);
    lab = await startLab({ dir: await mkdtemp(join(tmpdir(), 'trowel-e2e-provision-')), bootImage: pxe, poolSizeMiB: 3072 });
    await publishDemoTemplate(await TemplatePool.open(lab.poolDir!), demo.rootfs);
  });

  afterAll(async () => {
    await Promise.allSettled(running.map((vm) => vm.stop()));
    await lab?.close();
  });

  async function boot(options: Omit<VmOptions, 'ns' | 'tap' | 'workDir'>): Promise<Vm> {
    const vm = await lab!.startVm({ reboot: true, memoryMiB: 1024, ...options });
    running.push(vm);
    return vm;
  }

  const diskFile = (name: string) => join(lab!.dir, 'vms', `${name}.qcow2`);
  const plan = (mac: string, body: object) => lab!.api('PUT', `/api/v1/machines/${mac}/plan`, { template: DEMO_TEMPLATE_NAME, ...body });
  const machine = async (mac: string) => ((await lab!.api('GET', `/api/v1/machines/${mac}`)) as { machine: { state: string; action: string } }).machine;
  const events = async (mac: string) => ((await lab!.api('GET', `/api/v1/machines/${mac}/events`)) as { events: EventView[] }).events;
  /** The console shows an error before the client's report of it reaches the server: wait for the report. */
  async function waitForState(mac: string, state: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await machine(mac)).state !== state) {
      if (Date.now() > deadline) throw new Error(`machine ${mac} never reached state ${state} (now ${(await machine(mac)).state})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const steps = async (mac: string) => (await events(mac)).filter((e) => e.kind === 'step' && e.state !== 'progress').map((e) => `${e.step}:${e.state}`);

  /** Provisions a blank machine and boots the deployed OS; checks the server's record of it. */
  async function provisionBlank(mac: string, firmware: 'bios' | 'uefi', bus: 'virtio' | 'sata' | 'nvme', hostname: string, top?: TmuxSession): Promise<void> {
    await plan(mac, { hostname });
    const vm = await boot({ firmware, mac, disk: { bus, sizeMiB: 4096, file: diskFile(hostname) } });
    let line: string;
    try {
      // The dashboard, following the lab server live, shows the machine in the middle of its receive.
      if (top) await top.waitFor(new RegExp(`${mac}\\s+\\S+\\s+provisioning\\s+receive\\s+\\d+%`), PROVISION_TIMEOUT_MS);
      line = await vm.waitForSerial(deployedMarker(hostname), PROVISION_TIMEOUT_MS);
      if (top) await top.waitFor(new RegExp(`${mac}\\s+\\S+\\s+deployed`), 60_000);
    } finally {
      // Later tests boot this disk again; QEMU holds a lock on it while running.
      await vm.stop();
    }
    expect(line).toMatch(/version=\d{8}T\d{6}Z/);
    expect(await machine(mac)).toMatchObject({ state: 'deployed', action: 'local' });
    expect(await steps(mac)).toEqual([
      'discover:started', 'discover:done', 'plan:started', 'plan:done', 'partition:started', 'partition:done',
      'mkfs:started', 'mkfs:done', 'receive:started', 'receive:done', 'deploy:started', 'deploy:done',
      'bootloader:started', 'bootloader:done', 'complete:done', 'reboot:started',
    ]);
    // The boot after provisioning was answered with "boot local", not the PXE image: iPXE got a
    // local-boot script (BIOS ROM), the firmware's own PXE client GRUB's network image, which
    // chainloads the disk (UEFI, docs/local-boot.md).
    const bootedLocal = (r: Record<string, unknown>) => r.mac === mac && ((r.event === 'boot_script_served' && r.action === 'local') || r.event === 'dhcp.boot_local');
    expect(lab!.serve.records.some(bootedLocal)).toBe(true);
  }

  it('BIOS VM, blank virtio disk: PXE, provision, reboot, boots Debian from its disk; trowel top shows it live', async () => {
    const top = await TmuxSession.start({ command: `ip netns exec ${lab!.ns.name} ${process.execPath} ${SOURCE_CLI} top --server ${SERVER_URL}`, columns: 100, rows: 30, env: { LANG: 'C.UTF-8' } });
    try {
      await provisionBlank('52:54:00:e4:00:01', 'bios', 'virtio', 'bios-node', top);
    } finally {
      await top.kill();
    }
  });

  it('UEFI VM, blank NVMe disk: PXE, provision, reboot, boots Debian from its disk', async () => {
    await provisionBlank('52:54:00:e4:00:02', 'uefi', 'nvme', 'uefi-node');
  });

  it('leaves a disk that holds data untouched when the plan does not allow wiping', async () => {
    const mac = '52:54:00:e4:00:01';
    const before = await readFile(diskFile('bios-node'));
    await plan(mac, { hostname: 'bios-node-again' });
    const vm = await boot({ firmware: 'bios', mac, disk: { bus: 'virtio', sizeMiB: 4096, file: diskFile('bios-node') } });
    const error = await vm.waitForSerial(/Cannot use \/dev\/vda: it holds/, FAIL_TIMEOUT_MS);
    expect(error).toContain('wipe');
    await waitForState(mac, 'failed:plan');
    await vm.stop();
    expect(await machine(mac)).toMatchObject({ state: 'failed:plan', action: 'provision' });
    // The client streams its log too: the last *step* report is the refusal.
    expect((await events(mac)).filter((e) => e.step).at(-1)).toMatchObject({ step: 'plan', state: 'failed' });
    expect((await readFile(diskFile('bios-node'))).equals(before)).toBe(true);
  });

  it('refuses a tampered stream before anything becomes bootable', async () => {
    const mac = '52:54:00:e4:00:03';
    const cache = join(lab!.stateDir, 'cache');
    const stream = (await readdir(cache)).find((f) => f.endsWith('.zst'))!;
    const bytes = await readFile(join(cache, stream));
    const original = Buffer.from(bytes);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x20;
    await writeFile(join(cache, stream), bytes);
    try {
      await plan(mac, { hostname: 'tampered' });
      const vm = await boot({ firmware: 'bios', mac, disk: { bus: 'sata', sizeMiB: 4096, file: diskFile('tampered') } });
      await vm.waitForSerial(/Cannot receive org\.trowel\.Demo/, FAIL_TIMEOUT_MS);
      await waitForState(mac, 'failed:receive');
      await vm.stop();
      expect(await machine(mac)).toMatchObject({ state: 'failed:receive', action: 'provision' });
    } finally {
      await writeFile(join(cache, stream), original);
    }
  });

  it('provisions cleanly after being powered off in the middle of the receive', async () => {
    const mac = '52:54:00:e4:00:04';
    await plan(mac, { hostname: 'restarted', wipe: true });
    const disk = { bus: 'virtio' as const, sizeMiB: 4096, file: diskFile('restarted') };
    const first = await boot({ firmware: 'bios', mac, disk });
    const deadline = Date.now() + FAIL_TIMEOUT_MS;
    while (!(await events(mac)).some((e) => e.step === 'receive' && e.state === 'progress')) {
      if (Date.now() > deadline) throw new Error('the machine never reported receive progress');
      await new Promise((r) => setTimeout(r, 2000));
    }
    await first.stop();
    const second = await boot({ firmware: 'bios', mac, disk });
    try {
      await second.waitForSerial(deployedMarker('restarted'), PROVISION_TIMEOUT_MS);
    } finally {
      await second.stop();
    }
    expect(await machine(mac)).toMatchObject({ state: 'deployed', action: 'local' });
  });
});
