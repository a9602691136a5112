/**
 * Power-on to deployed OS in the lab, split per step (issue 4, "Benchmarks").
 *
 * One BIOS VM (virtio disk), then one UEFI VM (NVMe disk), each with a blank
 * disk: PXE, unattended provisioning of the demo template, reboot, boot of the
 * deployed Debian. Phases come from the power-on time, the server's step
 * events and the moment the deployed OS's marker shows on the serial console.
 *
 *   npx node bench/provision.ts      (as root; several minutes per VM under TCG)
 *
 * Writes bench/results/provision.md and provision.json.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemoTemplate, defaultCacheDir, DEFAULT_WORK_DIR, DEMO_TEMPLATE_NAME, publishDemoTemplate } from '../appliance/demo-template/build.ts';
import { buildPxeImage } from '../appliance/pxe/build.ts';
import { DEFAULT_BOOT_ARGS, startLab, type Lab } from '../src/lab/lab.ts';
import type { DiskBus, Firmware } from '../src/lab/qemu.ts';
import { TemplatePool } from '../src/pool/index.ts';
import { cleanupAll, onCleanup } from './lib/cleanup.ts';
import { describeEnvironment } from './lib/environment.ts';
import { sampleLoad } from './lib/load-sampler.ts';
import { hostWriteStage } from './lib/host-write-stage.ts';
import { renderReport, summarizeRun, type EventView, type RunInput, type RunSummary, type WriteStage } from './lib/provision-report.ts';
import { writeResults } from './lib/results.ts';

const COMMAND = 'npx node bench/provision.ts';
const PROVISION_TIMEOUT_MS = 25 * 60_000;
const MACHINES: { firmware: Firmware; bus: DiskBus; mac: string; hostname: string }[] = [
  { firmware: 'bios', bus: 'virtio', mac: '52:54:00:b4:00:01', hostname: 'bench-bios' },
  { firmware: 'uefi', bus: 'nvme', mac: '52:54:00:b4:00:02', hostname: 'bench-uefi' },
];

const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function provisionOne(lab: Lab, m: (typeof MACHINES)[number]): Promise<RunInput> {
  await lab.api('PUT', `/api/v1/machines/${m.mac}/plan`, { template: DEMO_TEMPLATE_NAME, hostname: m.hostname });
  const marker = new RegExp(`TROWEL-DEPLOYED-OS-BOOTED hostname=${m.hostname} `);
  const powerOnAt = Date.now();
  const vm = await lab.startVm({ reboot: true, memoryMiB: 1024, cpus: 2, firmware: m.firmware, mac: m.mac, disk: { bus: m.bus, sizeMiB: 4096, file: join(lab.dir, 'vms', `${m.hostname}.qcow2`) } });
  log(`${m.firmware}: powered on ${m.mac}, waiting for the deployed OS`);
  let line: string;
  let markerAt: number;
  try {
    line = await vm.waitForSerial(marker, PROVISION_TIMEOUT_MS);
    markerAt = Date.now();
  } finally {
    await vm.stop();
  }
  const { events } = (await lab.api('GET', `/api/v1/machines/${m.mac}/events`)) as { events: EventView[] };
  log(`${m.firmware}: deployed OS booted after ${((markerAt - powerOnAt) / 1000).toFixed(1)} s`);
  return { firmware: m.firmware, bus: m.bus, mac: m.mac, powerOnAt, markerAt, marker: line.trim(), events };
}

async function main(): Promise<void> {
  const env = await describeEnvironment({ qemu: ['qemu-system-x86_64', ['--version']] }, 'working tree');
  const load = sampleLoad();
  log('building (or reusing) the PXE image and the demo template');
  const [pxe, demo] = await Promise.all([buildPxeImage(), buildDemoTemplate({ workDir: DEFAULT_WORK_DIR, cacheDir: defaultCacheDir() })]);
  // trowel.bench=dd: each client also measures its disk's own write rate right after the receive.
  const lab = await startLab({ dir: await mkdtemp(join(tmpdir(), 'trowel-bench-provision-')), bootImage: pxe, poolSizeMiB: 3072, bootArgs: `${DEFAULT_BOOT_ARGS} trowel.bench=dd` });
  onCleanup(() => lab.close());
  await publishDemoTemplate(await TemplatePool.open(lab.poolDir!), demo.rootfs);
  log(`lab up in ${lab.dir}`);

  const runs: RunInput[] = [];
  const summaries: RunSummary[] = [];
  const failures: string[] = [];
  for (const m of MACHINES) {
    try {
      const run = await provisionOne(lab, m);
      runs.push(run);
      summaries.push(summarizeRun(run));
    } catch (e) {
      const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      log(`${m.firmware}: FAILED: ${message}`);
      failures.push(`${m.firmware.toUpperCase()} (${m.bus}): ${message}`);
    }
  }
  let host: WriteStage | undefined;
  try {
    log('host: receive into a loop btrfs, then dd (the write stage without CPU emulation)');
    host = await hostWriteStage(lab, DEMO_TEMPLATE_NAME);
    log(`host: ${host.message}`);
  } catch (e) {
    failures.push(`host write stage: ${e instanceof Error ? e.message.split('\n')[0]! : String(e)}`);
  }
  env.loadDuringRun = load.stop();
  const written = writeResults('provision', false, renderReport(COMMAND, env, summaries, failures, host), { environment: env, runs, summaries, host, failures });
  log(`wrote ${written.markdown} and ${written.json}`);
  if (failures.length) process.exitCode = 1;
}

try {
  await main();
} catch (e) {
  process.stderr.write(`bench/provision.ts: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
