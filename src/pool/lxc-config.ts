/**
 * Where an LXC container keeps its root filesystem, read from its config
 * (pure). `lxc.rootfs.path` is `[<backing store>:]<path>` (lxc.container.conf(5));
 * `lxc-create -B btrfs` writes `btrfs:<lxcpath>/<name>/rootfs`, a subvolume.
 */
import { TrowelError } from '../errors.ts';

export interface LxcRootfs {
  /** The backing store named in the config ("dir" when none is). */
  backing: string;
  path: string;
}

/** Backing stores whose rootfs is a plain path on the host (anything else needs a mount first). */
const PATH_BACKINGS = ['dir', 'btrfs'];

/**
 * The rootfs of the container whose config is `text`, or undefined when the
 * config names none (LXC then uses `<lxcpath>/<name>/rootfs`). The last
 * assignment wins, as in LXC. Throws TrowelError ELXCROOTFS for a backing
 * store whose path is not a directory on the host (lvm, zfs, loop, overlay, rbd...).
 */
export function parseLxcRootfs(text: string, container: string): LxcRootfs | undefined {
  let value: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^\s*lxc\.rootfs(?:\.path)?\s*=\s*(.*?)\s*$/.exec(line);
    if (m) value = m[1];
  }
  if (value === undefined || value === '') return undefined;
  const colon = value.indexOf(':');
  const [backing, path] = value.startsWith('/') || colon < 0 ? ['dir', value] : [value.slice(0, colon), value.slice(colon + 1)];
  if (!PATH_BACKINGS.includes(backing) || !path.startsWith('/')) {
    throw new TrowelError('ELXCROOTFS', `Cannot publish from LXC container ${container}: its rootfs "${value}" is not a directory or btrfs subvolume`, {
      hint: 'publish from a container on the dir or btrfs backing store, or mount its rootfs and use --from DIR',
    });
  }
  return { backing, path };
}
