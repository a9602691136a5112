/**
 * `trowel lab up|boot|status|console|down`: the QEMU lab by hand. `up`
 * starts `trowel serve` with a template pool in a private network namespace
 * and leaves it running; `boot` powers on VMs that PXE-boot from it; `down`
 * removes everything. State lives in --dir (default ./.lab), so each
 * subcommand is a separate process (see src/lab/lab.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TrowelError } from '../errors.ts';
import { openLab, SERVER_URL, startLab } from '../lab/lab.ts';
import { serialLines, type DiskBus, type Firmware } from '../lab/qemu.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { formatMachineTable } from './machines.ts';
import type { MachineView } from '../http/index.ts';

const USAGE = `usage: trowel lab up [--boot-image DIR] [--pool-size MiB] [--args "console=ttyS0"]
       trowel lab boot [--vms N] [--firmware bios|uefi] [--disk-size MiB] [--disk-bus virtio|sata|nvme]
                       [--template NAME [--version V] [--wipe]]
       trowel lab status
       trowel lab console MAC
       trowel lab down

options:
  --dir DIR          where the lab keeps its state, logs and disks (default ./.lab)
  --boot-image DIR   folder with vmlinuz and initramfs to PXE-boot (default dist/pxe)
  --pool-size MiB    size of the loop-device btrfs template pool (default 6144; 0: none)
  --vms N            how many VMs to power on (default 1)
  --firmware F       bios (SeaBIOS + iPXE ROM) or uefi (OVMF) (default bios)
  --disk-size MiB    blank disk per VM (default 4096)
  --disk-bus B       virtio, sata or nvme (default virtio)
  --template NAME    plan the VMs to install this template unattended (sets action provision)

The lab needs root (namespaces, taps, loop devices). VM serial consoles are in
<dir>/vms/serial-<mac>-<boot>.log; the server log is <dir>/serve.log.`;

const OPTIONS = {
  dir: { type: 'string' },
  'boot-image': { type: 'string' },
  'pool-size': { type: 'string' },
  args: { type: 'string' },
  vms: { type: 'string' },
  firmware: { type: 'string' },
  'disk-size': { type: 'string' },
  'disk-bus': { type: 'string' },
  template: { type: 'string' },
  version: { type: 'string' },
  wipe: { type: 'boolean' },
} as const;

const say = (t: string) => process.stdout.write(`${t}\n`);

function count(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}, not "${value}"`, USAGE);
  return n;
}

function choice<T extends string>(value: string | undefined, choices: readonly T[], fallback: T, name: string): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}`, USAGE);
  return value as T;
}

export async function labCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE, true);
  const [sub, ...rest] = positionals;
  if (values.help || sub === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const dir = resolve(values.dir ?? '.lab');
  switch (sub) {
    case 'up': {
      const imageDir = resolve(values['boot-image'] ?? 'dist/pxe');
      const bootImage = { kernel: join(imageDir, 'vmlinuz'), initrd: join(imageDir, 'initramfs') };
      if (!existsSync(bootImage.kernel) || !existsSync(bootImage.initrd)) {
        throw new TrowelError('ENOIMAGE', `Cannot start the lab: ${imageDir} has no vmlinuz and initramfs`, { hint: 'npm run build:pxe, or give --boot-image DIR' });
      }
      const lab = await startLab({ dir, bootImage, bootArgs: values.args, poolSizeMiB: count(values['pool-size'], 6144, 'pool-size', 0), detached: true });
      say(`lab up in ${dir}: trowel serve at ${SERVER_URL} in namespace ${lab.ns.name} (log: ${lab.serve.logFile})`);
      if (lab.poolDir) say(`template pool: ${lab.poolDir} (publish with: trowel template publish --pool ${lab.poolDir} ...)`);
      say('next: trowel lab boot --vms 1 --firmware bios');
      return 0;
    }
    case 'boot': {
      const lab = await openLab(dir);
      const vms = count(values.vms, 1, 'vms', 1);
      const firmware = choice<Firmware>(values.firmware, ['bios', 'uefi'], 'bios', 'firmware');
      const bus = choice<DiskBus>(values['disk-bus'], ['virtio', 'sata', 'nvme'], 'virtio', 'disk-bus');
      const sizeMiB = count(values['disk-size'], 4096, 'disk-size', 64);
      const existing = JSON.parse(await readFile(join(dir, 'lab.json'), 'utf8')).vms.length as number;
      for (let i = 0; i < vms; i++) {
        const n = existing + i + 1;
        const mac = `52:54:00:1a:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
        if (values.template) {
          const plan = { template: values.template, version: values.version, wipe: values.wipe ?? false, hostname: `lab-vm${n}` };
          await lab.api('PUT', `/api/v1/machines/${mac}/plan`, plan);
        }
        const vm = await lab.startVm({ firmware, mac, disk: { bus, sizeMiB, file: join(dir, 'vms', `disk-${mac.replace(/:/g, '')}.qcow2`) }, detached: true, reboot: true });
        say(`powered on ${mac} (${firmware}, ${sizeMiB} MiB ${bus} disk): console log ${vm.serialLog}`);
      }
      return 0;
    }
    case 'status': {
      const lab = await openLab(dir);
      const state = JSON.parse(await readFile(join(dir, 'lab.json'), 'utf8')) as { vms: { mac: string; pid?: number; serialLog: string }[] };
      say(`server ${SERVER_URL} (pid ${lab.serve.pid}, ${alive(lab.serve.pid) ? 'running' : 'NOT running'})`);
      for (const vm of state.vms) {
        const last = serialLines(await readFile(vm.serialLog, 'utf8').catch(() => '')).filter((l) => l.trim()).at(-1) ?? '';
        say(`vm ${vm.mac} pid ${vm.pid} ${alive(vm.pid) ? 'running' : 'off'}: ${last.slice(0, 100)}`);
      }
      const { machines } = (await lab.api('GET', '/api/v1/machines')) as { machines: MachineView[] };
      process.stdout.write(formatMachineTable(machines, Date.now()));
      return 0;
    }
    case 'console': {
      if (rest.length !== 1) throw new UsageError('lab console takes a MAC address', USAGE);
      const state = JSON.parse(await readFile(join(dir, 'lab.json'), 'utf8')) as { vms: { mac: string; serialLog: string }[] };
      const logs = state.vms.filter((v) => v.mac === rest[0]!.toLowerCase());
      if (logs.length === 0) throw new TrowelError('ENOVM', `Cannot show the console of ${rest[0]}: no such VM in this lab`);
      for (const vm of logs) process.stdout.write(serialLines(await readFile(vm.serialLog, 'utf8').catch(() => '')).join('\n') + '\n');
      return 0;
    }
    case 'down': {
      const lab = await openLab(dir);
      await lab.close();
      say(`lab in ${dir} removed (VMs, server, namespace, pool, files)`);
      return 0;
    }
    default:
      throw new UsageError(`unknown subcommand "${sub}"`, USAGE);
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
