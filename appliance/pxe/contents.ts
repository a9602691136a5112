/**
 * What the PXE image holds, as data: host programs (with their libraries,
 * found by ldd), kernel modules (with their dependencies, found by kmod),
 * and a few data files. The Buildroot defconfig (appliance/buildroot/)
 * selects the same tools; keep the two in step.
 */

/**
 * Host programs copied to the same path in the image (the image is
 * merged-/usr like Debian: /bin, /sbin and /lib are links into /usr).
 * Each one is there because the provisioning client or a technician's
 * shell needs it; busybox provides everything else.
 */
export const PROGRAMS = [
  // dash is /bin/sh, so /init and scripts find programs by PATH: busybox-static's
  // ash runs its own applets before PATH (FEATURE_SH_STANDALONE), which would
  // shadow util-linux's mount and umount
  '/usr/bin/dash',
  // btrfs-progs: mkfs, receive, subvolume, property (the pool and the deployed roots)
  '/usr/bin/btrfs',
  '/usr/sbin/mkfs.btrfs',
  // util-linux: partitioning and probing; busybox's versions lack options the client uses
  '/usr/sbin/sfdisk',
  '/usr/sbin/blkid',
  '/usr/sbin/wipefs',
  '/usr/bin/lsblk',
  '/usr/sbin/blockdev',
  '/usr/bin/findmnt',
  // partx: make the kernel see new partitions where its own re-read keeps old ones;
  // unshare --fork --kill-child: hooks run in their own mount/pid namespace (busybox's lacks both)
  '/usr/bin/partx',
  '/usr/bin/unshare',
  // util-linux mount/umount: bind, rbind, --make-private, umount --recursive
  '/usr/bin/mount',
  '/usr/bin/umount',
  // dosfstools: the ESP
  '/usr/sbin/mkfs.fat',
  // coreutils chroot: --userspec and exit codes as GRUB's scripts expect
  '/usr/sbin/chroot',
  // No kmod: busybox's modprobe reads this kernel's plain .ko files, modules.dep
  // and modules.alias (checked at boot by the e2e test), and kmod would bring
  // libcrypto (1.5 MiB compressed). What busybox lacks is softdeps; the kernel
  // asks for those modules itself (request_module) when it needs them.
] as const;

/** Links to programs above: [path in the image, link target]. */
export const PROGRAM_LINKS: readonly (readonly [string, string])[] = [
  ['usr/bin/sh', 'dash'],
  ['usr/sbin/mkfs.vfat', 'mkfs.fat'],
];

/**
 * Data files copied to the same path: glibc's converter for code page 850,
 * which mkfs.fat uses for labels (it warns on every run without it).
 */
export const DATA_FILES = [
  '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache',
  '/usr/lib/x86_64-linux-gnu/gconv/IBM850.so',
] as const;

/** busybox-static: the shell, udhcpc, ip, poweroff and the other applets, as links. */
export const BUSYBOX = '/bin/busybox';

/**
 * Kernel modules, by name or alias; their dependencies and soft
 * dependencies are added by modules.ts. At boot /init loads what the
 * hardware asks for (modalias coldplug) plus /etc/trowel/modules.
 * Softdeps are listed here too, since busybox's modprobe ignores them.
 */
export const MODULES = [
  // virtio (QEMU/KVM and most clouds): PCI transport, NIC, disks
  'virtio_pci', 'virtio_net', 'virtio_blk', 'virtio_scsi',
  // SATA (AHCI, and the PIIX of QEMU's pc machine), SCSI disks, NVMe, MMC/SD, USB disks
  'ahci', 'ata_piix', 'sd_mod', 'nvme', 'sdhci_pci', 'sdhci_acpi', 'mmc_block', 'usb_storage', 'uas',
  // NICs: Intel (e1000 for QEMU, e1000e/igb/igc on most boards), Realtek
  'e1000', 'e1000e', 'igb', 'igc', 'r8169', 'realtek',
  // filesystems of the target disk; the ESP's code pages (Debian's vfat
  // defaults to iocharset=ascii and refuses to mount without nls_ascii)
  'btrfs', 'vfat', 'nls_cp437', 'nls_ascii', 'nls_iso8859-1', 'nls_utf8', 'efivarfs',
  // btrfs checksum algorithms (its softdeps), requested by name at mount time
  'crc32c_generic', 'crc32c_intel', 'xxhash_generic', 'blake2b_generic',
  // USB keyboards for a technician at the console (the TUI)
  'xhci_pci', 'ehci_pci', 'ohci_pci', 'uhci_hcd', 'usbhid', 'hid_generic',
  // loop devices: testing a template or an image file by hand
  'loop',
] as const;

/**
 * terminfo entries for the TUI (blessed reads compiled terminfo; the
 * single executable has no copy of its own): console, serial terminals, ssh from xterm.
 */
export const TERMINFO = ['l/linux', 'v/vt100', 'v/vt102', 'v/vt220', 'x/xterm', 'x/xterm-256color', 's/screen', 'd/dumb'] as const;
export const TERMINFO_DIRS = ['/lib/terminfo', '/usr/share/terminfo'] as const;

/** Empty directories the image needs (mount points and writable places). */
export const DIRECTORIES = ['dev', 'proc', 'sys', 'run', 'tmp', 'root', 'mnt', 'var', 'var/log', 'etc'] as const;

/** Merged /usr: the same links Debian has. */
export const USR_LINKS: readonly (readonly [string, string])[] = [
  ['bin', 'usr/bin'],
  ['sbin', 'usr/sbin'],
  ['lib', 'usr/lib'],
  ['lib64', 'usr/lib64'],
];
