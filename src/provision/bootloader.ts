/**
 * Makes the disk boot the new root with the template's own GRUB, run in the
 * target (target-chroot.ts). grub-mkconfig runs first and its output is
 * checked: it must mount the root subvolume (`rootflags=subvol=@root:...`,
 * which GRUB's 10_linux adds when / is a btrfs subvolume). Only then does
 * grub-install point the firmware at the new root, so a template whose
 * config is broken leaves the old boot path alone. GRUB goes in for both
 * firmware types the template has modules for (the GPT layout boots either
 * way); the one this machine booted with is required.
 *
 * A template without grub-install (a test template, a container image) is
 * deployed without a bootloader: the step says so and logs a warning.
 */
import { lstat, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrowelError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Arch } from '../pool/names.ts';
import { runInTarget, TARGET_ENV, type TargetMounts } from './target-chroot.ts';

export type Firmware = 'bios' | 'uefi';

export interface BootloaderContext {
  /** The new root as a directory under the pool mount (to look at the template's files). */
  root: string;
  target: TargetMounts;
  /** The whole disk, e.g. /dev/vda (grub-install --target=i386-pc writes its boot sector). */
  disk: string;
  /** BIOS GRUB needs somewhere to put core.img: a BIOS boot partition on GPT, or the gap after an MBR. */
  biosBootable: boolean;
  firmware: Firmware;
  arch: Arch;
  log: Logger;
}

export interface BootloaderResult {
  /** GRUB targets installed, e.g. ["i386-pc", "x86_64-efi"]. */
  installed: string[];
  /** Why nothing was installed, when nothing was. */
  skipped?: string;
}

const GRUB_TIMEOUT_MS = 5 * 60_000;

export async function installBootloader(ctx: BootloaderContext): Promise<BootloaderResult> {
  if (!(await exists(ctx.root, 'usr/sbin/grub-install')) && !(await exists(ctx.root, 'usr/bin/grub-install'))) {
    const skipped = 'the template has no grub-install';
    ctx.log.warn('bootloader_skipped', { reason: skipped });
    return { installed: [], skipped };
  }
  const efiTarget = ctx.arch === 'aarch64' ? 'arm64-efi' : 'x86_64-efi';
  const available = {
    bios: ctx.arch === 'x86_64' && ctx.biosBootable && (await exists(ctx.root, 'usr/lib/grub/i386-pc')),
    uefi: ctx.target.espDevice !== undefined && (await exists(ctx.root, `usr/lib/grub/${efiTarget}`)),
  };
  if (!available[ctx.firmware]) {
    const what = ctx.firmware === 'uefi' ? `GRUB for ${efiTarget} (grub-efi-${ctx.arch === 'aarch64' ? 'arm64' : 'amd64'}-bin) or an ESP` : 'GRUB for i386-pc (grub-pc-bin) or a BIOS boot partition';
    throw new TrowelError('EBOOTLOADER', `Cannot make ${ctx.disk} boot: this machine starts by ${ctx.firmware.toUpperCase()} and the deployment lacks ${what}`, {
      hint: 'add the GRUB package for this firmware to the template',
    });
  }
  const env = { ...TARGET_ENV };
  // The ESP is mounted only for the UEFI install, the one program that needs it.
  const inTarget = (args: string[], withEsp = false) =>
    runInTarget({ ...ctx.target, espDevice: withEsp ? ctx.target.espDevice : undefined }, args, { env, timeoutMs: GRUB_TIMEOUT_MS });

  await mkdir(join(ctx.root, 'boot/grub'), { recursive: true });
  await inTarget(['grub-mkconfig', '-o', '/boot/grub/grub.cfg']);
  checkGrubConfig(await readFile(join(ctx.root, 'boot/grub/grub.cfg'), 'utf8'), ctx.target.subvolume);

  const installed: string[] = [];
  // The firmware this machine uses goes last: the other one failing must not leave it half-done.
  const order: Firmware[] = ctx.firmware === 'bios' ? ['uefi', 'bios'] : ['bios', 'uefi'];
  for (const firmware of order) {
    if (!available[firmware]) {
      ctx.log.warn('bootloader_target_missing', { firmware, reason: firmware === 'bios' ? 'no i386-pc GRUB or BIOS boot partition' : `no ${efiTarget} GRUB or ESP` });
      continue;
    }
    if (firmware === 'bios') {
      await inTarget(['grub-install', '--target=i386-pc', ctx.disk]);
      installed.push('i386-pc');
    } else {
      // --removable: \EFI\BOOT\BOOTX64.EFI, found by firmware without a boot entry; --no-nvram: we write no EFI variables.
      await inTarget(['grub-install', `--target=${efiTarget}`, '--efi-directory=/boot/efi', '--removable', '--no-nvram'], true);
      installed.push(efiTarget);
    }
  }
  ctx.log.info('bootloader_installed', { disk: ctx.disk, targets: installed });
  return { installed };
}

/**
 * Checks a generated grub.cfg (pure; exported for tests): it must boot a
 * kernel, and its default (first) entry must mount the root subvolume.
 * GRUB writes the subvolume path without its leading "/".
 */
export function checkGrubConfig(cfg: string, subvolume: string): void {
  const linuxLines = cfg.split('\n').filter((l) => /^\s*linux(efi|16)?\s/.test(l));
  if (linuxLines.length === 0) {
    throw new TrowelError('EBOOTLOADER', 'Cannot make the disk boot: grub-mkconfig found no kernel in /boot of the template', {
      hint: 'install a kernel package (linux-image-*) in the template',
    });
  }
  const wanted = `rootflags=subvol=${subvolume}`;
  const mounts = (l: string) => l.split(/\s+/).some((w) => w === wanted || w === `rootflags=subvol=/${subvolume}`);
  // The first entry is the default one; others (recovery, other kernels) are GRUB's business.
  if (!mounts(linuxLines[0]!)) {
    throw new TrowelError('EBOOTLOADER', `Cannot make the disk boot: grub.cfg does not mount the root subvolume (${wanted} is missing)`, {
      hint: 'the template\'s /etc/grub.d/10_linux or GRUB_CMDLINE_LINUX must not drop rootflags',
    });
  }
}

/** @private Present as anything (a symlink counts: it is resolved in the target). */
async function exists(root: string, path: string): Promise<boolean> {
  return lstat(join(root, path)).then(() => true, () => false);
}
