/**
 * QEMU virtual machines for the lab and the e2e tests: real firmware (SeaBIOS
 * with QEMU's iPXE ROM, or OVMF for UEFI) PXE-booting over a tap in a network
 * namespace, with the serial console in a log file the caller can wait on.
 *
 * Always TCG: KVM hangs on the machines this runs on, and TCG is fast enough
 * for a kernel+initramfs (a PXE boot takes ~45-90 s).
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrowelError } from '../errors.ts';
import { run } from '../sys/run.ts';
import type { Netns } from './netns.ts';

export type Firmware = 'bios' | 'uefi';
export type DiskBus = 'virtio' | 'sata' | 'nvme';

/** OVMF built for 4 MiB flash (Debian's `ovmf` package); CODE is shared read-only, VARS copied per VM. */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export interface VmOptions {
  /** The namespace QEMU runs in; it must hold `tap`. */
  ns: Netns;
  /** A tap device in `ns` (see createTap), usually enslaved to the lab bridge. */
  tap: string;
  firmware: Firmware;
  /** The NIC's MAC, e.g. "52:54:00:00:00:01"; fixed so tests know which machine record is theirs. */
  mac: string;
  /** Guest RAM (default 512). */
  memoryMiB?: number;
  /**
   * Virtual CPUs (default 1). TCG runs each on its own host thread
   * (multi-threaded TCG), so 2 let the client's pipeline stages (Node, zstd,
   * btrfs receive) overlap as they do on real multi-core machines.
   */
  cpus?: number;
  /**
   * The CPU model (default QEMU's qemu64, x86-64 baseline without SSE4.1).
   * `max` gives the guest what TCG can emulate, like any x86-64 machine of
   * the last 15 years (WebAssembly SIMD needs SSE4.1).
   */
  cpu?: string;
  /**
   * A qcow2 disk on the given bus (booted after the NIC): blank and removed
   * with the VM, or, with `file`, kept there (created blank when missing), so
   * a machine can be provisioned, powered off, and booted again from it.
   */
  disk?: { bus: DiskBus; sizeMiB: number; file?: string };
  /**
   * Keep the VM's files (serial logs, OVMF variables) in this folder instead
   * of a temp dir removed by stop(): the lab's machines persist like real ones.
   */
  workDir?: string;
  /** Let QEMU outlive this process (`trowel lab boot`); its stderr goes to a file beside the serial log. */
  detached?: boolean;
  /**
   * Let a guest reboot restart the machine (like real hardware) instead of
   * ending QEMU. Off by default so a failing boot cannot loop in a test.
   */
  reboot?: boolean;
  /**
   * What boots from the NIC. 'ipxe': QEMU's iPXE option ROM (does DHCP itself
   * and identifies as iPXE). 'firmware': no ROM, so the firmware's own PXE
   * client (OVMF's) fetches a boot file by TFTP. Defaults: bios 'ipxe', uefi 'firmware'.
   * SeaBIOS has no PXE client of its own, so bios with 'firmware' cannot boot from the NIC.
   */
  nicBoot?: 'ipxe' | 'firmware';
  /** Boot this kernel+initramfs directly (QEMU -kernel), skipping the network: checks an image fast. */
  directBoot?: { kernel: string; initrd: string; args: string };
}

export interface Vm {
  readonly mac: string;
  /** QEMU's process id (the lab records it to stop a detached VM later). */
  readonly pid: number | undefined;
  /** The serial console log (removed by stop()). */
  readonly serialLog: string;
  /** Settles when QEMU exits, with its exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /**
   * Resolves with the first serial line matching `pattern`. Rejects with the
   * last serial lines (and QEMU's stderr) on timeout or when QEMU exits first.
   */
  waitForSerial(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Kills QEMU (if still running) and removes the VM's temp files. Safe to call twice. */
  stop(): Promise<void>;
}

/** Files a VM uses, all inside its temp dir. */
export interface VmFiles {
  serialLog: string;
  /** The per-VM copy of OVMF_VARS (uefi only). */
  vars?: string;
  /** The qcow2 disk (when options.disk is set). */
  disk?: string;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const POLL_MS = 250;
const STOP_GRACE_MS = 3000;

/** QEMU's command line for `options` (pure; exported for tests and for printing a reproducer). */
export function qemuArgs(options: VmOptions, files: VmFiles): string[] {
  const nicBoot = options.nicBoot ?? (options.firmware === 'bios' ? 'ipxe' : 'firmware');
  const args = [
    '-accel', 'tcg',
    // q35 has an AHCI controller built in (bus ide.0) for the sata disk case.
    '-machine', 'q35',
    '-m', String(options.memoryMiB ?? 512),
    '-smp', String(options.cpus ?? 1),
    ...(options.cpu ? ['-cpu', options.cpu] : []),
    // -nodefaults drops the default NIC, CD-ROM and VGA; -nographic makes
    // SeaBIOS mirror its text (and the iPXE ROM's) onto the serial port.
    '-nodefaults', '-nographic', '-monitor', 'none',
    '-serial', `file:${files.serialLog}`,
  ];
  // Unless asked otherwise a guest reboot ends QEMU, so a failed boot cannot loop forever.
  if (!options.reboot) args.push('-no-reboot');
  if (options.firmware === 'uefi') {
    if (!files.vars) throw new TrowelError('ELAB', 'Cannot build a UEFI VM command line: no OVMF_VARS copy given');
    args.push(
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${files.vars}`,
    );
  }
  // bootindex=1 puts the NIC first in the firmware's boot order (fw_cfg "bootorder").
  const romfile = nicBoot === 'ipxe' ? '' : ',romfile=';
  args.push(
    '-netdev', `tap,id=net0,ifname=${options.tap},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=net0,mac=${options.mac.toLowerCase()}${romfile},bootindex=1`,
  );
  if (options.directBoot) {
    const { kernel, initrd, args: append } = options.directBoot;
    args.push('-kernel', kernel, '-initrd', initrd, '-append', append);
  }
  if (options.disk) {
    if (!files.disk) throw new TrowelError('ELAB', 'Cannot build a VM command line with a disk: no disk file given');
    args.push('-drive', `if=none,id=disk0,format=qcow2,file=${files.disk}`);
    const device = {
      virtio: 'virtio-blk-pci,drive=disk0',
      sata: 'ide-hd,drive=disk0,bus=ide.0',
      nvme: 'nvme,drive=disk0,serial=trowel0001',
    }[options.disk.bus];
    args.push('-device', `${device},bootindex=2`);
  }
  return args;
}

/** Starts a VM in `options.ns`; the caller must stop() it (also on failure paths). */
export async function startVm(options: VmOptions): Promise<Vm> {
  if (!MAC_RE.test(options.mac)) throw new TrowelError('ELAB', `Cannot start a VM: "${options.mac}" is not a MAC address`);
  const keep = options.workDir !== undefined;
  const dir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'trowel-vm-')));
  await mkdir(dir, { recursive: true });
  const id = options.mac.replace(/:/g, '');
  // One serial log per power-on, so each boot of a kept machine can be read on its own.
  const boot = keep ? (await readdir(dir)).filter((f) => f.startsWith(`serial-${id}-`)).length + 1 : 1;
  const files: VmFiles = { serialLog: join(dir, keep ? `serial-${id}-${boot}.log` : 'serial.log') };
  let child: ChildProcess | undefined;
  try {
    if (options.firmware === 'uefi') {
      files.vars = join(dir, keep ? `OVMF_VARS-${id}.fd` : 'OVMF_VARS.fd');
      if (!existsSync(files.vars)) await copyFile(OVMF_VARS, files.vars);
    }
    if (options.disk) {
      files.disk = options.disk.file ?? join(dir, `disk-${options.disk.bus}.qcow2`);
      if (!existsSync(files.disk)) await run('qemu-img', ['create', '-q', '-f', 'qcow2', files.disk, `${options.disk.sizeMiB}M`]);
    }
    const stderrFile = options.detached ? openSync(`${files.serialLog}.stderr`, 'w') : 'pipe';
    child = options.ns.spawn('qemu-system-x86_64', qemuArgs(options, files), { stdio: ['ignore', 'ignore', stderrFile], detached: options.detached ?? false });
    if (typeof stderrFile === 'number') closeSync(stderrFile);
    if (options.detached) child.unref();
  } catch (e) {
    if (!keep) await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return trackVm(child, options.mac, files.serialLog, keep ? undefined : dir);
}

/** `dir` is the temp folder stop() removes; undefined for a VM whose files are kept. */
function trackVm(child: ChildProcess, mac: string, serialLog: string, dir: string | undefined): Vm {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4096);
  });
  let running = true;
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      stderr += `\n${e.message}`;
      running = false;
      resolve(null);
    });
    child.on('exit', (code) => {
      running = false;
      resolve(code);
    });
  });
  const readSerial = () => readFile(serialLog, 'utf8').catch(() => '');

  const failure = async (why: string, pattern: RegExp) => {
    const tail = lastLines(await readSerial(), 15);
    const err = stderr.trim() ? `\nqemu stderr: ${stderr.trim()}` : '';
    return new TrowelError('EVMSERIAL', `Cannot see ${pattern} on the serial console of VM ${mac}: ${why}${err}\n` +
      `last serial lines:\n${tail.map((l) => `  | ${l}`).join('\n')}`);
  };

  const waitForSerial = async (pattern: RegExp, timeoutMs: number): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Read once more after QEMU exits: the guest may print the line and power off at once.
      const wasRunning = running;
      const line = findLine(await readSerial(), pattern);
      if (line !== undefined) return line;
      if (!wasRunning) throw await failure(`QEMU exited (code ${await exited})`, pattern);
      if (Date.now() >= deadline) throw await failure(`timed out after ${Math.round(timeoutMs / 1000)} s`, pattern);
      await Promise.race([exited, new Promise((r) => setTimeout(r, POLL_MS))]);
    }
  };

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (running) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  return { mac, pid: child.pid, serialLog, exited, waitForSerial, stop };
}

/**
 * Serial text as lines: CRs and escape sequences removed (ECMA-48: CSI
 * `ESC [ params intermediates final`, and two-byte ones such as SeaBIOS's
 * reset `ESC c`), since OVMF, SeaBIOS and iPXE draw with them.
 */
export function serialLines(text: string): string[] {
  return text.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b[ -/]*[0-~]/g, '').split(/\r?\n|\r/).map((l) => l.trimEnd());
}

function findLine(text: string, pattern: RegExp): string | undefined {
  return serialLines(text).find((l) => pattern.test(l));
}

function lastLines(text: string, n: number): string[] {
  return serialLines(text).filter((l) => l.trim() !== '').slice(-n);
}
