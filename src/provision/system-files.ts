/**
 * The files that make a deployed root this machine's own (pure): /etc/fstab
 * by UUID, /etc/hosts and /etc/machine-id. The template's own fstab entries
 * that are not about disks (tmpfs, proc, bind mounts) are kept; entries
 * naming block devices came from wherever the template was built and are
 * dropped.
 */
import { randomBytes } from 'node:crypto';

export const PERSISTENT_DIR = '/var/lib/trowel-persistent';

export interface FstabInput {
  poolUuid: string;
  /** Undefined when the disk has no ESP. */
  espUuid: string | undefined;
  /** The root subvolume's name at the top of the pool. */
  rootSubvolume: string;
}

const DISK_SOURCE = /^(UUID|LABEL|PARTUUID|PARTLABEL)=|^\/dev\//;

export function buildFstab(existing: string | undefined, input: FstabInput): string {
  const ours = new Set(['/', '/home', PERSISTENT_DIR, '/boot/efi']);
  const kept = (existing ?? '').split('\n').filter((line) => {
    const fields = line.trim().split(/\s+/);
    if (line.trim() === '' || line.trim().startsWith('#')) return false;
    return !DISK_SOURCE.test(fields[0]!) && !ours.has(fields[1] ?? '');
  });
  const btrfs = (target: string, subvol: string) => `UUID=${input.poolUuid}\t${target}\tbtrfs\tdefaults,subvol=/${subvol}\t0\t0`;
  const lines = [
    '# /etc/fstab: written by trowel when this machine was provisioned.',
    '# <file system>\t<mount point>\t<type>\t<options>\t<dump>\t<pass>',
    btrfs('/', input.rootSubvolume),
    btrfs('/home', '@home'),
    btrfs(PERSISTENT_DIR, '@persistent'),
    ...(input.espUuid ? [`UUID=${input.espUuid}\t/boot/efi\tvfat\tumask=0077\t0\t0`] : []),
    ...kept,
  ];
  return lines.join('\n') + '\n';
}

/**
 * /etc/hosts with the host name on 127.0.1.1 (Debian's convention for a
 * machine without a fixed address; see the Debian Reference, "The hostname
 * resolution"); other lines stay as they are.
 */
export function buildHosts(existing: string | undefined, hostname: string): string {
  const short = hostname.split('.')[0]!;
  const entry = `127.0.1.1\t${hostname === short ? hostname : `${hostname} ${short}`}`;
  const base = existing && existing.trim() !== ''
    ? existing.replace(/\n*$/, '').split('\n')
    : ['127.0.0.1\tlocalhost', '::1\t\tlocalhost ip6-localhost ip6-loopback', 'ff02::1\t\tip6-allnodes', 'ff02::2\t\tip6-allrouters'];
  const lines = base.filter((l) => !/^\s*127\.0\.1\.1\s/.test(l));
  const after = lines.findIndex((l) => /^\s*127\.0\.0\.1\s/.test(l));
  lines.splice(after + 1, 0, entry);
  return lines.join('\n') + '\n';
}

/** A new machine id: 32 lowercase hex digits and a newline (machine-id(5)). */
export function newMachineId(): string {
  return randomBytes(16).toString('hex') + '\n';
}
