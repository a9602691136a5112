/**
 * `trowel setup-tftp --root DIR`: the documented step that puts the network
 * boot programs into the TFTP root. They come from Debian's packages
 * (`ipxe`, `pxelinux`, `syslinux-common`, `grub-efi-amd64-bin`) rather than being built or
 * vendored, so security updates arrive with apt. Files already identical are
 * left alone; nothing outside the root is touched.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { TrowelError } from '../errors.ts';
import { parseCommandArgs } from './args.ts';

/** Boot programs and where Debian installs them. */
export const BOOT_PROGRAMS = [
  { file: 'undionly.kpxe', from: '/usr/lib/ipxe/undionly.kpxe', why: 'BIOS PXE -> iPXE (DHCP option 93 arch 0)' },
  { file: 'ipxe.efi', from: '/usr/lib/ipxe/ipxe.efi', why: 'x86-64 UEFI -> iPXE with its own NIC drivers (arch 7, 9, 16)' },
  { file: 'snponly.efi', from: '/usr/lib/ipxe/snponly.efi', why: 'x86-64 UEFI -> iPXE over the firmware SNP driver (fallback)' },
  { file: 'pxelinux.0', from: '/usr/lib/PXELINUX/pxelinux.0', why: 'BIOS pxelinux (TFTP only)' },
  { file: 'lpxelinux.0', from: '/usr/lib/PXELINUX/lpxelinux.0', why: 'BIOS pxelinux with HTTP, for per-MAC pxelinux.cfg files' },
  { file: 'ldlinux.c32', from: '/usr/lib/syslinux/modules/bios/ldlinux.c32', why: 'pxelinux core module' },
  { file: 'grubnetx64.efi', from: '/usr/lib/grub/x86_64-efi/monolithic/grubnetx64.efi', why: 'x86-64 UEFI machines set to local: GRUB chainloads the disk' },
] as const;

const USAGE = 'usage: trowel setup-tftp --root DIR [--source-root /]';

export async function setupTftpCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { root: { type: 'string' }, 'source-root': { type: 'string' } }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n\nCopies:\n${BOOT_PROGRAMS.map((p) => `  ${p.file.padEnd(15)} ${p.why}`).join('\n')}\n`);
    return 0;
  }
  if (!values.root) throw new TrowelError('EUSAGE', 'Cannot set up TFTP root: --root is required', { hint: USAGE });
  const copied = setupTftpRoot(resolve(values.root), values['source-root'] ?? '/');
  for (const line of copied) process.stdout.write(`${line}\n`);
  return 0;
}

/** Copies every boot program found; fails only when none of the iPXE ones exist. */
export function setupTftpRoot(root: string, sourceRoot = '/'): string[] {
  mkdirSync(root, { recursive: true });
  const report: string[] = [];
  for (const program of BOOT_PROGRAMS) {
    const source = join(sourceRoot, program.from);
    const target = join(root, basename(program.file));
    if (!existsSync(source)) {
      report.push(`missing  ${program.file} (${source} not installed)`);
      continue;
    }
    if (existsSync(target) && readFileSync(target).equals(readFileSync(source))) {
      report.push(`current  ${program.file}`);
      continue;
    }
    copyFileSync(source, target);
    report.push(`copied   ${program.file} <- ${source}`);
  }
  if (!report.some((l) => /^(copied|current) +(undionly\.kpxe|ipxe\.efi)/.test(l))) {
    throw new TrowelError('ENOBOOTFILES', `Cannot set up TFTP root ${root}: no iPXE binaries found under ${sourceRoot}`, {
      hint: 'apt-get install ipxe pxelinux syslinux-common grub-efi-amd64-bin',
    });
  }
  return report;
}
