/**
 * `npm run demo`: the main job, in one command, on a fresh machine.
 * Installs the Debian packages it needs, builds the PXE image and a demo
 * Debian template, starts `trowel serve` with a template pool in a private
 * network namespace, and powers on a BIOS VM and a UEFI VM with blank disks.
 * Both PXE-boot, provision themselves unattended, reboot, and boot the
 * deployed Debian from their own disks. It prints what the server sees and
 * what the consoles say. Everything it creates is removed at the end (also
 * on Ctrl-C); --keep leaves the lab running for `trowel lab` commands.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemoTemplate, defaultCacheDir, DEFAULT_WORK_DIR, DEMO_TEMPLATE_NAME, publishDemoTemplate } from './demo-template/build.ts';
import { buildPxeImage, formatSizes, readInfo } from './pxe/build.ts';
import { formatMachineTable } from '../src/cli/machines.ts';
import { describeError } from '../src/errors.ts';
import type { MachineView } from '../src/http/index.ts';
import { startLab, SERVER_URL, type Lab } from '../src/lab/lab.ts';
import { serialLines, type Firmware, type Vm } from '../src/lab/qemu.ts';
import type { LogRecord } from '../src/lab/serve-process.ts';
import { TemplatePool } from '../src/pool/index.ts';

const TIMEOUT_MS = 30 * 60_000;
const say = (text: string) => process.stdout.write(`${text}\n`);
const step = (text: string) => say(`\n\x1b[1m== ${text}\x1b[0m`);

/** Server log records worth showing a newcomer, as one line each. */
function describeRecord(r: LogRecord): string | undefined {
  switch (r.event) {
    case 'dhcp.reply':
      return r.type === 'ack' ? `DHCP ${r.mac} got ${r.ip}${r.file ? `, boot file ${r.file}` : ''}` : undefined;
    case 'tftp.transfer_end':
      return `TFTP ${r.file} to ${r.peer}: ${r.result}, ${r.bytes} bytes`;
    case 'boot_script_served':
      return `iPXE script for ${r.mac}: ${r.action === 'local' ? 'boot from local disk' : `load the PXE image (${r.action})`}`;
    case 'machine_step':
      return `${r.mac} ${r.step}: ${r.state}${r.error ? ` (${r.error})` : r.bytes ? ` (${(Number(r.bytes) / 2 ** 20).toFixed(0)} MiB)` : ''}`;
    default:
      return undefined;
  }
}

/** Prints new console lines of a VM that matter (trowel's and the deployed OS's), until stopped. */
function followConsole(vm: Vm, label: string): () => void {
  let printed = 0;
  const timer = setInterval(async () => {
    const lines = serialLines(await readFile(vm.serialLog, 'utf8').catch(() => '')).filter((l) => l.trim());
    for (const line of lines.slice(printed)) {
      if (/trowel|TROWEL|Welcome to|login:|error|Cannot/i.test(line) && !/^\[\s*\d+\.\d+\]/.test(line)) say(`  [${label} console] ${line.slice(0, 160)}`);
    }
    printed = lines.length;
  }, 1000);
  return () => clearInterval(timer);
}

async function provisionVm(lab: Lab, firmware: Firmware, mac: string, hostname: string): Promise<void> {
  await lab.api('PUT', `/api/v1/machines/${mac}/plan`, { template: DEMO_TEMPLATE_NAME, hostname });
  const started = Date.now();
  const vm = await lab.startVm({ firmware, mac, memoryMiB: 1024, reboot: true, disk: { bus: firmware === 'bios' ? 'virtio' : 'nvme', sizeMiB: 4096, file: join(lab.dir, 'vms', `${hostname}.qcow2`) } });
  say(`  powered on ${firmware.toUpperCase()} VM ${mac} with a blank 4 GiB disk`);
  const stop = followConsole(vm, firmware);
  try {
    const line = await vm.waitForSerial(/TROWEL-DEPLOYED-OS-BOOTED/, TIMEOUT_MS);
    say(`\n  ${firmware.toUpperCase()} VM: blank disk to booted Debian in ${Math.round((Date.now() - started) / 1000)} s:\n  ${line}`);
  } finally {
    stop();
  }
}

async function main(): Promise<number> {
  const keep = process.argv.includes('--keep');
  if (process.getuid?.() !== 0) {
    say('The demo needs root: it creates a network namespace, a bridge, taps and a loop device. Run: sudo npm run demo');
    return 1;
  }
  step('Installing the Debian packages the lab needs (skipped when present)');
  if (spawnSync('bash', ['scripts/install-deps.sh'], { stdio: 'inherit' }).status !== 0) return 1;

  step('Building the PXE image and the demo Debian template (cached after the first run; the template takes ~4 min)');
  const [pxe, demo] = await Promise.all([
    buildPxeImage(),
    buildDemoTemplate({ workDir: DEFAULT_WORK_DIR, cacheDir: defaultCacheDir(), onProgress: (l) => say(`  [template] ${l}`) }),
  ]);
  const info = await readInfo(pxe.info);
  if (info) say(formatSizes(info).replace(/^/gm, '  '));
  say(`  demo template: ${demo.rootfs} (${(demo.sizeBytes / 2 ** 20).toFixed(0)} MiB)`);

  step(`Starting trowel serve in a private network namespace (${SERVER_URL}), with a template pool`);
  const lab = await startLab({
    dir: await mkdtemp(join(tmpdir(), 'trowel-demo-')),
    bootImage: pxe,
    poolSizeMiB: 3072,
    detached: keep,
    onServeRecord: (r) => {
      const line = describeRecord(r);
      if (line) say(`  [server] ${line}`);
    },
  });
  const cleanup = () => void lab.close().finally(() => process.exit(130));
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  try {
    const version = await publishDemoTemplate(await TemplatePool.open(lab.poolDir!), demo.rootfs);
    say(`  published ${version.name} ${version.arch} ${version.version}`);

    step('Two machines with blank disks power on; each PXE-boots, provisions itself unattended, reboots into Debian');
    await Promise.all([provisionVm(lab, 'bios', '52:54:00:de:00:01', 'demo-bios'), provisionVm(lab, 'uefi', '52:54:00:de:00:02', 'demo-uefi')]);

    step('The server recorded both machines as deployed; their next PXE boot goes to their own disks');
    const body = (await lab.api('GET', '/api/v1/machines')) as { machines: MachineView[] };
    process.stdout.write(formatMachineTable(body.machines, Date.now()));
    if (keep) {
      say(`\nThe lab keeps running in ${lab.dir}: trowel lab status --dir ${lab.dir}; trowel lab down --dir ${lab.dir}`);
      return 0;
    }
    step('Done. Everything the demo created is being removed.');
    return 0;
  } finally {
    if (!keep) await lab.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${describeError(e)}\n`);
    process.exit(1);
  },
);
