/**
 * GRUB configuration for x86-64 UEFI machines whose boot action is `local`,
 * served over TFTP to GRUB's network image (Debian's grubnetx64.efi, offered
 * by DHCP: src/dhcp/pxe.ts chooseLocalBoot). See docs/local-boot.md.
 *
 * Debian builds that image with prefix `/grub` and an embedded config that
 * sources `$prefix/x86_64-efi/grub.cfg` if it exists, else `$prefix/grub.cfg`
 * (grub2's debian/build-efi-images). Its prefix device is the TFTP server
 * from the PXE offer. Its `-e` test sends no TFTP request at all (observed
 * in test/integration/uefi-local.test.ts: `-e` looks into the directory,
 * which GRUB's network filesystem cannot list), so the first config it
 * reads is `grub/grub.cfg`; before it come only `grub/x86_64-efi/*.lst`
 * probes of the normal module, not found and harmless. Because it names a config itself, GRUB >= 2.04's own
 * per-machine search (grub.cfg-01-<mac>, then grub.cfg-<HEX IP> shortened a
 * digit at a time, then grub.cfg) does not run.
 * So `grub/grub.cfg` is the same small dispatcher for every machine: it
 * turns `$net_default_mac` into that search's name and sources
 * `grub/grub.cfg-01-<mac-with-dashes>`, the per-machine config rendered here.
 * Other names fall through to the filesystem.
 */
import type { TrowelConfig } from '../config/index.ts';
import type { MachineStore } from '../store/index.ts';
import { normalizeMac } from '../wire/mac.ts';

const DISPATCHER = /^\/?grub\/grub\.cfg$/;
const PER_MAC = /^\/?grub\/grub\.cfg-01-([0-9a-f]{2}(?:-[0-9a-f]{2}){5})$/i;

/** EFI loaders on a disk's ESP, tried in order. */
export const DISK_LOADERS = [
  // The removable-media path: trowel's bootloader step installs GRUB there
  // (grub-install --removable, src/provision/bootloader.ts), and UEFI firmware
  // boots it without a boot entry.
  '/EFI/BOOT/BOOTX64.EFI',
  // Debian's own entry, for a disk installed some other way.
  '/EFI/debian/grubx64.efi',
] as const;

/** How long a message stays on screen before GRUB gives the machine back to its firmware. */
const PAUSE_SECONDS = 5;

export function grubConfigFor(path: string, machines: MachineStore, config: Pick<TrowelConfig, 'listen'>): Buffer | undefined {
  if (DISPATCHER.test(path)) return Buffer.from(renderGrubDispatcher());
  const m = PER_MAC.exec(path);
  const mac = m && normalizeMac(m[1]!);
  if (!mac) return undefined;
  return Buffer.from(renderGrubConfig(machines.recordContact({ mac }), config));
}

/** `grub/grub.cfg`: sources this machine's own file by GRUB's name for it. */
export function renderGrubDispatcher(): string {
  const groups = [1, 2, 3, 4, 5, 6];
  return [
    '# trowel: every machine reads this, then its own grub.cfg-01-<mac>',
    `if regexp ${groups.map((g) => `--set=${g}:m${g}`).join(' ')} '^(..):(..):(..):(..):(..):(..)$' "$net_default_mac"; then`,
    `  source "$prefix/grub.cfg-01-${groups.map((g) => `$m${g}`).join('-')}"`,
    'fi',
    'echo "trowel: no configuration for MAC \'$net_default_mac\'"',
    'echo "trowel: back to the firmware\'s next boot option"',
    `sleep ${PAUSE_SECONDS}`,
    'exit',
    '',
  ].join('\n');
}

/**
 * `grub/grub.cfg-01-<mac>`. `local`: find the ESP holding a loader and
 * chainload it; `exit` (back to the firmware's next boot option) when no
 * disk has one. Any other action only gets here when it changed after the
 * DHCP offer: chainload iPXE from trowel's TFTP, which then follows the
 * machine's script like any other network boot.
 */
export function renderGrubConfig(machine: { mac: string; action: string }, config: Pick<TrowelConfig, 'listen'>): string {
  if (machine.action !== 'local') {
    return [
      `# trowel: ${machine.mac} action=${machine.action}`,
      `echo "trowel: ${machine.mac} action=${machine.action}: loading iPXE"`,
      `chainloader (tftp,${config.listen.address})/ipxe.efi`,
      'boot',
      'echo "trowel: cannot load iPXE"',
      'echo "trowel: back to the firmware\'s next boot option"',
      `sleep ${PAUSE_SECONDS}`,
      'exit',
      '',
    ].join('\n');
  }
  return [
    `# trowel: ${machine.mac} boots from its local disk`,
    `echo "trowel: ${machine.mac} boots from its local disk"`,
    `for loader in ${DISK_LOADERS.join(' ')}; do`,
    '  if search --no-floppy --file --set=esp "$loader"; then',
    '    echo "trowel: chainloading ($esp)$loader"',
    // GRUB's EFI chainloader gives the loaded image the device of $root, not
    // of the file: left on the network, the disk's GRUB looks for its prefix
    // partition on the NIC and stops at "disk `,gpt3' not found".
    '    set root="$esp"',
    '    chainloader "($esp)$loader"',
    '    boot',
    '  fi',
    'done',
    // Two short lines: GRUB wraps at the console's 80 columns.
    `echo "trowel: no disk holds ${DISK_LOADERS.join(' or ')}"`,
    'echo "trowel: back to the firmware\'s next boot option"',
    `sleep ${PAUSE_SECONDS}`,
    'exit',
    '',
  ].join('\n');
}
