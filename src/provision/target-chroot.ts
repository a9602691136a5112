/**
 * Runs a program inside the system being deployed, as if it were booted far
 * enough for GRUB and the template's deploy hooks: the new root subvolume
 * mounted as `/` (so grub-probe and grub-mkconfig see a btrfs subvolume and
 * write `rootflags=subvol=...`), the host's /dev and /sys bound in (grub-install
 * needs the real disk), a fresh /proc, a tmpfs /run, and the ESP at
 * /boot/efi. All of it happens in a private mount and PID namespace
 * (util-linux unshare), so every mount vanishes with the program, even when
 * it is killed: there is nothing to unmount afterwards.
 */
import { run, type RunResult } from '../sys/run.ts';

export interface TargetMounts {
  /** The btrfs pool partition, e.g. /dev/vda3. */
  poolDevice: string;
  /** The root subvolume's path from the top of the pool, e.g. "@root:org.example.Demo:x86_64:20261122T023710Z". */
  subvolume: string;
  /** The ESP partition, mounted at /boot/efi when set. */
  espDevice?: string;
  /** An empty directory to mount the root on (inside the namespace only). */
  mountpoint: string;
}

// $1 pool device, $2 subvolume, $3 mountpoint, $4 ESP device or "", then the command.
const SETUP = [
  'set -e',
  'dev=$1; subvol=$2; root=$3; esp=$4; shift 4',
  'mount -t btrfs -o "subvol=/$subvol" "$dev" "$root"',
  'for d in dev proc sys run; do mkdir -p "$root/$d"; done',
  'mount --rbind /dev "$root/dev"',
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

export function runInTarget(target: TargetMounts, command: readonly string[], options: TargetRunOptions = {}): Promise<RunResult> {
  return run(
    'unshare',
    [
      '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--',
      'sh', '-c', SETUP, 'trowel-target', target.poolDevice, target.subvolume, target.mountpoint, target.espDevice ?? '', ...command,
    ],
    { env: options.env, timeoutMs: options.timeoutMs },
  );
}

/** PATH and locale for programs run in the target; TROWEL_* variables are added by callers. */
export const TARGET_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
} as const;
