/**
 * Issue 6's "done when", under real firmware: three VMs with blank disks
 * PXE-boot trowel's image at once with trowel.transport=multicast, ask the
 * server for the same stream within its window, receive it from ONE
 * multicast session (verified like an HTTP download), deploy unattended,
 * reboot, and each boots the deployed Debian from its own disk.
 *
 * The lab bridge keeps Linux's default IGMP snooping on and has no querier:
 * a snooping bridge that has never seen a querier floods multicast to every
 * port (br_multicast_querier_exists() is false), so every tap gets the
 * session, as on an unmanaged switch. docs/multicast-sessions.md says what
 * a managed switch needs.
 *
 * TCG on a shared 2-core host: three guests at once take several minutes.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoTemplate, defaultCacheDir, DEFAULT_WORK_DIR, DEMO_TEMPLATE_NAME, publishDemoTemplate } from '../../appliance/demo-template/build.ts';
import { buildPxeImage } from '../../appliance/pxe/build.ts';
import { DEFAULT_BOOT_ARGS, startLab, type Lab } from '../../src/lab/lab.ts';
import type { Vm } from '../../src/lab/qemu.ts';
import type { SessionView } from '../../src/mcast-server/index.ts';
import { TemplatePool } from '../../src/pool/index.ts';

const PROVISION_TIMEOUT_MS = 25 * 60_000;
const deployedMarker = (hostname: string) => new RegExp(`TROWEL-DEPLOYED-OS-BOOTED hostname=${hostname} template=${DEMO_TEMPLATE_NAME.replace(/\./g, '\\.')}`);
const MACHINES = [
  { mac: '52:54:00:e6:00:01', hostname: 'mcast-a' },
  { mac: '52:54:00:e6:00:02', hostname: 'mcast-b' },
  { mac: '52:54:00:e6:00:03', hostname: 'mcast-c' },
];

interface EventView { step?: string; state?: string; kind: string; message?: string; line?: string }

describe('three machines provisioned at once over multicast (QEMU, TCG)', () => {
  let lab: Lab | undefined;
  const running: Vm[] = [];

  beforeAll(async () => {
    const [pxe, demo] = await Promise.all([
      buildPxeImage(),
      buildDemoTemplate({ workDir: DEFAULT_WORK_DIR, cacheDir: defaultCacheDir() }),
    ]);
    lab = await startLab({
      dir: await mkdtemp(join(tmpdir(), 'trowel-e2e-mcast-')),
      bootImage: pxe,
      poolSizeMiB: 3072,
      bootArgs: `${DEFAULT_BOOT_ARGS} trowel.transport=multicast`,
      // Guests under TCG boot at different speeds: a long window gathers all three into one session,
      // and the sender waits for the three joins. A modest rate: TCG guests decompress and write slowly.
      extraConfig: 'mcast: { enabled: true, window: 90s, minReceivers: 3, maxWait: 240s, rate: 200M }',
    });
    await publishDemoTemplate(await TemplatePool.open(lab.poolDir!), demo.rootfs);
  });

  afterAll(async () => {
    await Promise.allSettled(running.map((vm) => vm.stop()));
    await lab?.close();
  });

  const events = async (mac: string) => ((await lab!.api('GET', `/api/v1/machines/${mac}/events`)) as { events: EventView[] }).events;
  const machine = async (mac: string) => ((await lab!.api('GET', `/api/v1/machines/${mac}`)) as { machine: { state: string; action: string } }).machine;

  /** What a session that went wrong leaves to read: the list, each machine's receive step, the server's mcast records. */
  const explainNoSession = async (sessions: SessionView[]) => {
    console.info('multicast sessions (none or several done)', JSON.stringify(sessions));
    for (const m of MACHINES) {
      const receive = (await events(m.mac)).filter((e) => e.step === 'receive' || /multicast/.test(e.message ?? e.line ?? ''));
      console.info(`${m.hostname} receive events`, JSON.stringify(receive));
    }
    const serveLog = await readFile(join(lab!.dir, 'serve.log'), 'utf8').catch((e: Error) => `(no serve.log: ${e.message})`);
    console.info('server mcast records', serveLog.split('\n').filter((l) => /mcast|multicast/.test(l)).slice(0, 60).join('\n'));
  };

  it('one session, three verified installs, three deployed systems booted', async () => {
    for (const m of MACHINES) await lab!.api('PUT', `/api/v1/machines/${m.mac}/plan`, { template: DEMO_TEMPLATE_NAME, hostname: m.hostname });
    const vms = await Promise.all(MACHINES.map(async (m) => {
      // Each its own disk file: blank disks of one bus would share a name in the lab's VM folder.
      const disk = { bus: 'virtio' as const, sizeMiB: 4096, file: join(lab!.dir, 'vms', `${m.hostname}.qcow2`) };
      // cpu max: the receiver's FEC runs WebAssembly SIMD, which needs SSE4.1; QEMU's default qemu64 model lacks it.
      const vm = await lab!.startVm({ firmware: 'bios', mac: m.mac, reboot: true, memoryMiB: 1024, cpu: 'max', disk });
      running.push(vm);
      return vm;
    }));
    const lines = await Promise.all(vms.map(async (vm, i) => {
      try {
        return await vm.waitForSerial(deployedMarker(MACHINES[i]!.hostname), PROVISION_TIMEOUT_MS);
      } finally {
        await vm.stop();
      }
    }));
    for (const line of lines) expect(line).toMatch(/version=\d{8}T\d{6}Z/);

    const sessions = ((await lab!.api('GET', '/api/v1/multicast/sessions')) as { sessions: SessionView[] }).sessions;
    const sent = sessions.filter((s) => s.state === 'done');
    // Once seen without a done session (three verified installs nonetheless): say what the list held.
    if (sent.length !== 1) await explainNoSession(sessions);
    expect(sent).toHaveLength(1);
    console.info('multicast session', JSON.stringify(sent[0]));
    expect(sent[0]).toMatchObject({ origin: 'auto', progress: 1, template: { name: DEMO_TEMPLATE_NAME } });
    // A guest the sender finds too far behind is dropped and finishes over HTTP Range: still verified, still one
    // session. Three TCG guests on a busy 2-core host all were, after ~40% of the stream (measured 2026-11-30).
    expect(sent[0]!.completed + sent[0]!.dropped).toBe(3);
    expect([...sent[0]!.machines].sort()).toEqual(MACHINES.map((m) => m.mac));
    for (const m of MACHINES) {
      expect(await machine(m.mac)).toMatchObject({ state: 'deployed', action: 'local' });
      const receive = (await events(m.mac)).filter((e) => e.step === 'receive');
      // The receive step says its transport: the session it joined, and so its done event.
      expect(receive.some((e) => e.state === 'progress' && e.message?.startsWith(`over multicast from 10.0.0.1, session ${sent[0]!.sessionId}`))).toBe(true);
      // The done event says the transport and what multicast brought: some of the stream, whatever HTTP filled in.
      const done = receive.find((e) => e.state === 'done')?.message ?? '';
      expect(done).toMatch(/over multicast from 10\.0\.0\.1/);
      expect(done).toMatch(/; multicast: [\d.]+ (KiB|MiB|GiB) by multicast, [\d.]+ (B|KiB|MiB|GiB) over http/);
    }
    const metrics = await lab!.curl(['http://10.0.0.1:8080/metrics']);
    expect(metrics).toContain('trowel_mcast_sessions_total{origin="auto",result="done"} 1');
  });
});
