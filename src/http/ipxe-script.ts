/**
 * iPXE scripts, as pure functions of the machine and the boot settings.
 *
 * iPXE only runs a script it fetched with a 2xx status: on 4xx/5xx `chain`
 * fails with an error number and the operator sees nothing useful. So every
 * problem is answered 200 with a script that `echo`es it, waits so a human
 * can read it, and `exit`s so the firmware falls back to its next boot
 * device. The server also logs the problem with the peer address.
 */
import type { BootAction } from '../store/machines.ts';

export interface BootSettings {
  /** Base URL of this server as the booting machine reaches it, e.g. http://10.0.0.1:8080 (no trailing slash). */
  serverUrl: string;
  /** Paths under /boot/files/ of the kernel and initramfs. */
  kernel: string;
  initrd: string;
  /** Extra kernel arguments from the config, appended verbatim. */
  args: string;
}

export interface ScriptMachine {
  mac: string;
  token: string;
  action: BootAction;
  /** Further trowel.* arguments decided by the server (mode, pinned key), placed before boot.args. */
  extraArgs?: readonly string[];
}

/** Seconds an error script waits before exiting, so a human at the console can read it. */
export const ERROR_PAUSE_SECONDS = 10;

export function bootScript(machine: ScriptMachine, boot: BootSettings): string {
  return machine.action === 'local' ? localBootScript(machine.mac) : kernelBootScript(machine, boot);
}

/** `discover` and `provision`: load the trowel PXE image over HTTP. */
function kernelBootScript(machine: ScriptMachine, boot: BootSettings): string {
  const files = `${boot.serverUrl}/boot/files`;
  const initrdName = basename(boot.initrd);
  const args = [
    // initrd=<name> names the image loaded below. On UEFI, Debian's 2019 iPXE
    // hands the kernel no initramfs unless the command line names it this way
    // (the EFI stub loads initrd= files from iPXE's virtual file system).
    `initrd=${initrdName}`,
    `trowel.server=${boot.serverUrl}`,
    `trowel.mac=${machine.mac}`,
    `trowel.token=${machine.token}`,
    `trowel.action=${machine.action}`,
    ...(machine.extraArgs ?? []),
    boot.args.trim(),
  ].filter((a) => a !== '');
  return [
    '#!ipxe',
    `kernel ${files}/${boot.kernel} ${args.join(' ')}`,
    `initrd ${files}/${boot.initrd}`,
    'boot',
    '',
  ].join('\n');
}

/**
 * `local`: boot the machine's own disk. On EFI, `exit` returns to the
 * firmware, which tries the next entry in its boot order (the disk). On BIOS,
 * `exit` would often just retry the network, so hand over to the first hard
 * disk (0x80) with `sanboot`; --no-describe skips publishing an iBFT/ABFT.
 */
export function localBootScript(mac: string): string {
  return [
    '#!ipxe',
    `echo trowel: ${sanitize(mac)} boots from its local disk`,
    'iseq ${platform} efi && goto efi ||',
    'sanboot --no-describe --drive 0x80 || goto failed',
    ':efi',
    'exit',
    ':failed',
    'echo trowel: sanboot from the first hard disk failed',
    `sleep ${ERROR_PAUSE_SECONDS}`,
    'exit',
    '',
  ].join('\n');
}

/** A valid script that shows `problem` on the console, then gives the machine back to its firmware. */
export function errorScript(problem: string): string {
  return ['#!ipxe', `echo trowel: ${sanitize(problem)}`, `sleep ${ERROR_PAUSE_SECONDS}`, 'exit', ''].join('\n');
}

/**
 * @private iPXE expands `${...}` in every command line and splits on
 * whitespace; text from a request must not inject commands or settings,
 * so anything outside a plain set of characters becomes "?".
 */
function sanitize(s: string): string {
  return s.replace(/[^\w .,:=@/+-]/g, '?').slice(0, 200);
}

/** @private The file name iPXE gives an image fetched from a URL path. */
function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
