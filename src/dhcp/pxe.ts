/**
 * Which network-boot client is asking, and what it should load next.
 *
 * The chain is firmware PXE/HTTP boot -> iPXE -> trowel's per-machine iPXE
 * script. Firmware gets an iPXE binary that fits its architecture (option 93,
 * RFC 4578 2.1 and the IANA "Processor Architecture Types" registry); iPXE
 * itself is recognised by user class "iPXE" (option 77) or its encapsulated
 * option 175, and gets the script URL instead, so it never chainloads itself
 * in a loop. The script URL carries the MAC as the server saw it in chaddr,
 * not iPXE's ${net0/mac}, so the address the server keyed the machine by is
 * the one the HTTP side looks up.
 *
 * Binaries: Debian's `ipxe` package (bookworm, Architecture: all) ships
 * undionly.kpxe and ipxe.efi (x86-64) only. 32-bit x86 UEFI (arch 6) and
 * arm64 UEFI (arch 11) builds are not packaged; trowel still names a file for
 * them (ipxe-i386.efi, snp-arm64.efi: iPXE's bin-i386-efi/ipxe.efi and
 * bin-arm64-efi/snp.efi) so an operator who builds or obtains one only has to
 * drop it into the TFTP root.
 *
 * Machines whose boot action is `local` are another chain (docs/local-boot.md):
 * x86-64 UEFI firmware gets GRUB's network image, which chainloads the disk's
 * EFI loader, because Debian's ipxe.efi cannot hand UEFI back to the disk.
 */
import type { DhcpPacket } from './packet.ts';
import { clientArch, clientUuid, ipxeOptions, userClasses, vendorClass } from './packet.ts';

export interface BootTargets {
  /** Our address: option 54, siaddr/next-server, TFTP server. */
  serverAddress: string;
  /** For iPXE script URLs and HTTPClient URLs. */
  httpPort: number;
  /**
   * Whether this machine should boot from the network now (its boot action
   * is not `local`). When it should not, firmware PXE clients get the
   * local-boot loader ({@link chooseLocalBoot}) or, without one, no boot
   * file, so the firmware moves on to the next boot device (the disk).
   * iPXE clients still get their script, which says "boot local" itself.
   * Absent: every machine netboots.
   */
  netboot?: (mac: string) => boolean;
  /**
   * Whether trowel's TFTP root holds `file`: a local-boot loader is offered
   * only when it does (and trowel's TFTP serves the GRUB config that goes
   * with it); otherwise the firmware gets no boot file, as before.
   * Absent: every file is there.
   */
  tftpHas?: (file: string) => boolean;
}

/** Option 93 values trowel knows (IANA processor architecture types). */
export const ClientArch = {
  x86Bios: 0, //         0  Intel x86PC (legacy BIOS PXE)
  x86Uefi: 6, //         6  EFI IA32
  x64Uefi: 7, //         7  EFI x86-64 (some firmware sends 9, "EFI BC")
  x64UefiBc: 9, //       9  EFI x86-64 (as 7; RFC 4578 errata 4624)
  arm64Uefi: 11, //     11  EFI ARM 64-bit
  x64UefiHttp: 16, //   16  EFI x86-64 HTTP boot
  arm64UefiHttp: 19, // 19  EFI ARM 64-bit HTTP boot
} as const;

/** TFTP file for PXE firmware by architecture. */
const TFTP_FILES: Readonly<Record<number, string>> = {
  [ClientArch.x86Bios]: 'undionly.kpxe',
  [ClientArch.x86Uefi]: 'ipxe-i386.efi',
  [ClientArch.x64Uefi]: 'ipxe.efi',
  [ClientArch.x64UefiBc]: 'ipxe.efi',
  [ClientArch.arm64Uefi]: 'snp-arm64.efi',
};

/**
 * TFTP file for PXE firmware of a machine that boots its own disk: GRUB's
 * network image from Debian's grub-efi-amd64-bin (monolithic/grubnetx64.efi),
 * which reads grub/grub.cfg from the TFTP server (src/boot/grub-config.ts).
 * BIOS machines need none (their iPXE ROM gets a script that sanboots the
 * disk). arm64 (11) would take grubnetaa64.efi from grub-efi-arm64-bin, a
 * package of another architecture that this x86-64 server does not install.
 */
const LOCAL_TFTP_FILES: Readonly<Record<number, string>> = {
  [ClientArch.x64Uefi]: 'grubnetx64.efi',
  [ClientArch.x64UefiBc]: 'grubnetx64.efi',
};

/** HTTP boot firmware (UEFI 2.5 24.7) fetches the iPXE binary itself from /boot/files/. */
const HTTP_FILES: Readonly<Record<number, string>> = {
  [ClientArch.x64UefiHttp]: 'ipxe.efi',
  [ClientArch.arm64UefiHttp]: 'snp-arm64.efi',
};

export interface BootClient {
  /** Option 60 starts with "PXEClient" (PXE 2.1 2.2). */
  pxe: boolean;
  /** Option 60 starts with "HTTPClient" (UEFI 2.5 24.7.1). */
  http: boolean;
  /** iPXE: user class "iPXE" or option 175 present. */
  ipxe: boolean;
  arch: number | undefined;
  uuid: string | undefined;
}

/** Reads what kind of boot client sent `p`. Throws WireError when 93 or 97 is malformed. */
export function describeBootClient(p: DhcpPacket): BootClient {
  const vc = vendorClass(p) ?? '';
  return {
    pxe: vc.startsWith('PXEClient'),
    http: vc.startsWith('HTTPClient'),
    ipxe: userClasses(p).includes('iPXE') || ipxeOptions(p) !== undefined,
    arch: clientArch(p),
    uuid: clientUuid(p),
  };
}

/** True for clients that network-boot and so get boot options (and proxyDHCP answers). */
export function isBootClient(c: BootClient): boolean {
  return c.pxe || c.http || c.ipxe;
}

export interface BootChoice {
  /** What goes into the file field / option 67: a TFTP path or an http:// URL. */
  file: string;
  /** Option 60 to put in the reply: UEFI HTTP boot ignores offers without "HTTPClient". */
  vendorClass: 'PXEClient' | 'HTTPClient';
}

/**
 * The next thing `client` should load, or undefined when nothing fits
 * (not a boot client, or an architecture trowel has no binary for).
 */
export function chooseBoot(client: BootClient, mac: string, boot: BootTargets): BootChoice | undefined {
  const base = `http://${boot.serverAddress}:${boot.httpPort}`;
  if (client.ipxe) return { file: `${base}/boot/ipxe?mac=${mac}`, vendorClass: client.http ? 'HTTPClient' : 'PXEClient' };
  if (client.arch === undefined) {
    // PXE 2.1 firmware always sends option 93; without it, BIOS is the historical default.
    return client.pxe ? { file: TFTP_FILES[ClientArch.x86Bios]!, vendorClass: 'PXEClient' } : undefined;
  }
  if (client.http) {
    const file = HTTP_FILES[client.arch];
    return file ? { file: `${base}/boot/files/${file}`, vendorClass: 'HTTPClient' } : undefined;
  }
  if (client.pxe) {
    const file = TFTP_FILES[client.arch];
    return file ? { file, vendorClass: 'PXEClient' } : undefined;
  }
  return undefined;
}

/**
 * What firmware PXE of a machine whose boot action is `local` should load:
 * GRUB's network image for x86-64 UEFI when the TFTP root has it, otherwise
 * undefined (no boot file: the firmware moves on to its next boot option).
 * iPXE and HTTP boot clients get undefined too; iPXE is given its script by
 * {@link chooseBoot}, and HTTP boot has no TFTP to read GRUB's config from.
 */
export function chooseLocalBoot(client: BootClient, boot: BootTargets): BootChoice | undefined {
  if (client.ipxe || !client.pxe || client.arch === undefined) return undefined;
  const file = LOCAL_TFTP_FILES[client.arch];
  if (!file || (boot.tftpHas && !boot.tftpHas(file))) return undefined;
  return { file, vendorClass: 'PXEClient' };
}
