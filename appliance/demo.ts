/**
 * `npm run demo`: what trowel does today, in one command, on a fresh machine.
 * Installs the Debian packages it needs, builds a tiny boot image, starts
 * `trowel serve` in a private network namespace, and PXE-boots a BIOS and
 * then a UEFI VM from it, printing what the server and each VM's serial
 * console say. Everything it creates is removed at the end (also on Ctrl-C).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestImage, TEST_IMAGE_MARKER } from './test-image/build.ts';
import { formatMachineTable } from '../src/cli/machines.ts';
import { describeError } from '../src/errors.ts';
import { startLab, SERVER_URL, type Lab } from '../src/lab/lab.ts';
import { serialLines, type Firmware, type Vm } from '../src/lab/qemu.ts';
import type { MachineView } from '../src/http/index.ts';

const BOOT_TIMEOUT_MS = 600_000;
const say = (text: string) => process.stdout.write(`${text}\n`);
const step = (text: string) => say(`\n\x1b[1m== ${text}\x1b[0m`);

/** Server log records worth showing a newcomer, as one line each. */
function describeRecord(r: Record<string, unknown>): string | undefined {
  switch (r.event) {
    case 'dhcp.reply':
      return `DHCP ${String(r.type).toUpperCase()} to ${r.mac}: ${r.ip && r.ip !== '0.0.0.0' ? `address ${r.ip}` : 'no address'}${r.file ? `, boot ${r.file}` : ''}`;
    case 'tftp.transfer_end':
      return `TFTP ${r.file} to ${r.peer}: ${r.result}, ${r.bytes} bytes in ${r.ms} ms`;
    case 'boot_script_served':
      return `HTTP boot script for ${r.mac}: action ${r.action}`;
    case 'request':
      return String(r.path).startsWith('/boot/files/') ? `HTTP ${r.method} ${r.path} -> ${r.status} in ${r.ms} ms` : undefined;
    default:
      return undefined;
  }
}

const KERNEL_LOG_LINE = /^\[\s*\d+\.\d+\]/;

/**
 * Prints new serial console lines of a VM as they appear, until stopped:
 * firmware and iPXE lines in full, the kernel's boot log as one line.
 */
function followSerial(vm: Vm, label: string): () => void {
  let printed = 0;
  let kernelSeen = false;
  const timer = setInterval(async () => {
    const lines = serialLines(await readFile(vm.serialLog, 'utf8').catch(() => '')).filter((l) => l.trim());
    for (const line of lines.slice(printed)) {
      if (KERNEL_LOG_LINE.test(line)) {
        if (!kernelSeen) say(`  [${label} console] (the served Linux kernel is booting...)`);
        kernelSeen = true;
      } else {
        say(`  [${label} console] ${line.slice(0, 150)}`);
      }
    }
    printed = lines.length;
  }, 500);
  return () => clearInterval(timer);
}

async function bootOnce(lab: Lab, firmware: Firmware, mac: string): Promise<void> {
  step(`Power on a ${firmware.toUpperCase()} VM (${mac}) with an empty disk and network boot first`);
  const started = Date.now();
  const vm = await lab.startVm({ firmware, mac });
  const stopFollowing = followSerial(vm, firmware);
  try {
    const line = await vm.waitForSerial(new RegExp(`^${TEST_IMAGE_MARKER} `), BOOT_TIMEOUT_MS);
    stopFollowing();
    say(`\n  ${firmware.toUpperCase()} VM booted trowel's image over the network in ${Math.round((Date.now() - started) / 1000)} s:`);
    say(`  ${line.slice(0, 200)}`);
  } finally {
    stopFollowing();
    await vm.stop();
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    say('The demo needs root: it creates a network namespace, a bridge and taps. Run: sudo npm run demo');
    return 1;
  }
  step('Installing the Debian packages the lab needs (skipped when present)');
  const deps = spawnSync('bash', ['scripts/install-deps.sh'], { stdio: 'inherit' });
  if (deps.status !== 0) return 1;

  step('Building the boot image (Debian kernel + a tiny initramfs that prints a marker)');
  const image = await buildTestImage();
  say(`  ${image.built ? 'built' : 'up to date'}: ${image.kernel}, ${image.initrd}`);

  step(`Starting trowel serve in a private network namespace (${SERVER_URL}, DHCP range 10.0.0.100-150)`);
  const lab = await startLab({
    dir: await mkdtemp(join(tmpdir(), 'trowel-demo-')),
    bootImage: image,
    onServeRecord: (r) => {
      const line = describeRecord(r);
      if (line) say(`  [server] ${line}`);
    },
  });
  const cleanup = () => void lab.close().finally(() => process.exit(130));
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  try {
    await bootOnce(lab, 'bios', '52:54:00:de:00:01');
    await bootOnce(lab, 'uefi', '52:54:00:de:00:02');
    step('The server recorded both machines (trowel machines list)');
    const body = JSON.parse(await lab.curl([`${SERVER_URL}/api/v1/machines`])) as { machines: MachineView[] };
    process.stdout.write(formatMachineTable(body.machines, Date.now()));
    step('Done: both machines PXE-booted from trowel. Everything the demo created is being removed.');
    return 0;
  } finally {
    await lab.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${describeError(e)}\n`);
    process.exit(1);
  },
);
