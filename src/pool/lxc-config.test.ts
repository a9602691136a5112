import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { parseLxcRootfs } from './lxc-config.ts';

// As written by lxc-create -B btrfs -t busybox (LXC 5.0.2), trimmed.
const BTRFS_CONFIG = `# Template used to create this container: /usr/share/lxc/templates/lxc-busybox
lxc.net.0.type = veth
lxc.rootfs.path = btrfs:/var/lib/lxc/c1/rootfs
lxc.uts.name = "c1"
lxc.mount.entry = /lib lib none ro,bind 0 0
`;

describe('parseLxcRootfs', () => {
  it('reads a btrfs backing store', () => {
    expect(parseLxcRootfs(BTRFS_CONFIG, 'c1')).toEqual({ backing: 'btrfs', path: '/var/lib/lxc/c1/rootfs' });
  });

  it('reads dir: and a bare path, and the old lxc.rootfs key', () => {
    expect(parseLxcRootfs('lxc.rootfs.path = dir:/srv/c/rootfs\n', 'c')).toEqual({ backing: 'dir', path: '/srv/c/rootfs' });
    expect(parseLxcRootfs('lxc.rootfs.path=/srv/c/rootfs  \n', 'c')).toEqual({ backing: 'dir', path: '/srv/c/rootfs' });
    expect(parseLxcRootfs('lxc.rootfs = /old/rootfs\n', 'c')).toEqual({ backing: 'dir', path: '/old/rootfs' });
  });

  it('lets the last assignment win and ignores other rootfs keys', () => {
    expect(parseLxcRootfs('lxc.rootfs.path = /a\nlxc.rootfs.options = idmap=container\nlxc.rootfs.path = btrfs:/b\n', 'c')).toEqual({ backing: 'btrfs', path: '/b' });
  });

  it('returns undefined when no rootfs is configured', () => {
    expect(parseLxcRootfs('lxc.uts.name = c\n# lxc.rootfs.path = /commented\n', 'c')).toBeUndefined();
  });

  it.each(['lvm:/dev/vg/c', 'zfs:tank/c', 'overlay:/a:/b', 'loop:/img', 'btrfs:relative/path'])('refuses %s with ELXCROOTFS', (value) => {
    let error: unknown;
    try {
      parseLxcRootfs(`lxc.rootfs.path = ${value}\n`, 'c');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrowelError);
    expect(error).toMatchObject({ code: 'ELXCROOTFS', message: expect.stringMatching(/^Cannot publish from LXC container c: its rootfs/) });
  });
});
