/**
 * Runs a program inside the system being deployed, as if it were booted far
 * enough for GRUB and the template's deploy hooks: the new root subvolume
 * mounted as `/` (so grub-probe and grub-mkconfig see a btrfs subvolume and
 * write `rootflags=subvol=...`), the host's /sys bound in, a fresh /proc, a
 * tmpfs /run, the ESP at /boot/efi when asked, and a /dev of its own.
 *
 * That /dev is a tmpfs holding the usual character devices, the target disk
 * and its partitions (major:minor from /sys/class/block), and
 * /dev/disk/by-uuid links: GRUB's 10_linux writes `root=UUID=...` only when
 * /dev/disk/by-uuid/<uuid> exists, and the PXE image runs no udev to make
 * it. Building it (rather than binding the host's /dev) also keeps the
 * host's /dev untouched. All of it lives in a private mount and PID
 * namespace (util-linux unshare), so every mount vanishes with the program,
 * even when it is killed: there is nothing to unmount afterwards.
 */
import { CommandError, run, type RunResult } from '../sys/run.ts';

export interface TargetMounts {
  /** The btrfs pool partition, e.g. /dev/vda3. */
  poolDevice: string;
  /** The root subvolume's path from the top of the pool, e.g. "@root:org.example.Demo:x86_64:20261122T023710Z". */
  subvolume: string;
  /** The ESP partition, mounted at /boot/efi when set. */
  espDevice?: string;
  /** Kernel names of the block devices to create in the target's /dev (the disk and its partitions). */
  devices: readonly string[];
  /** Filesystem UUID -> kernel name, for /dev/disk/by-uuid. */
  uuids: Readonly<Record<string, string>>;
  /** An empty directory to mount the root on (inside the namespace only). */
  mountpoint: string;
}

/** Character devices every program may expect: name, major, minor (Linux devices.txt). */
const CHAR_DEVICES: [string, number, number][] = [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]];

// $1 pool device, $2 subvolume, $3 mountpoint, $4 ESP device or "", $5 block device names,
// $6 "uuid=name" pairs, then the command.
const SETUP = [
  'set -e',
  'dev=$1; subvol=$2; root=$3; esp=$4; blocks=$5; uuids=$6; shift 6',
  'mount -t btrfs -o "subvol=/$subvol" "$dev" "$root"',
  'for d in dev proc sys run; do mkdir -p "$root/$d"; done',
  'mount -t tmpfs -o mode=755,nosuid trowel-dev "$root/dev"',
  ...CHAR_DEVICES.map(([name, major, minor]) => `mknod -m 666 "$root/dev/${name}" c ${major} ${minor}`),
  'for b in $blocks; do mm=$(cat "/sys/class/block/$b/dev"); mknod -m 660 "$root/dev/$b" b "${mm%%:*}" "${mm#*:}"; done',
  'mkdir -p "$root/dev/disk/by-uuid" "$root/dev/pts" "$root/dev/shm"',
  'for p in $uuids; do ln -s "../../${p#*=}" "$root/dev/disk/by-uuid/${p%%=*}"; done',
  'ln -s /proc/self/fd "$root/dev/fd"',
  'mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"',
  'ln -s pts/ptmx "$root/dev/ptmx"',
  'mount -t proc proc "$root/proc"',
  'mount --rbind /sys "$root/sys"',
  'mount -t tmpfs -o mode=755,nosuid,nodev trowel-run "$root/run"',
  'if [ -n "$esp" ]; then mkdir -p "$root/boot/efi"; mount -t vfat -o umask=0077 "$esp" "$root/boot/efi"; fi',
  'exec chroot "$root" "$@"',
].join('\n');

export interface TargetRunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Fails with a CommandError naming the program run in the target (not the setup script around it). */
export function runInTarget(target: TargetMounts, command: readonly string[], options: TargetRunOptions = {}): Promise<RunResult> {
  const uuids = Object.entries(target.uuids).map(([uuid, name]) => `${uuid}=${name}`).join(' ');
  return run(
    'unshare',
    [
      '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--',
      'sh', '-c', SETUP, 'trowel-target',
      target.poolDevice, target.subvolume, target.mountpoint, target.espDevice ?? '', target.devices.join(' '), uuids, ...command,
    ],
    { env: options.env, timeoutMs: options.timeoutMs },
  ).catch((e: unknown) => {
    if (e instanceof CommandError) throw new CommandError(`${command.join(' ')} (in ${target.subvolume})`, e.exitCode, null, e.stderr);
    throw e;
  });
}

/** PATH and locale for programs run in the target; TROWEL_* variables are added by callers. */
export const TARGET_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
} as const;
