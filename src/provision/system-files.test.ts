import { describe, expect, it } from 'vitest';
import { buildFstab, buildHosts, newMachineId } from './system-files.ts';

const input = { poolUuid: '5b0f3a70-8a55-4b8e-a0a8-3f6c1b0d2e11', espUuid: 'A1B2-C3D4', rootSubvolume: '@root:org.example.Demo:x86_64:20261122T023710Z' };

describe('buildFstab', () => {
  it('mounts root, home, persistent data and the ESP by UUID', () => {
    expect(buildFstab('# UNCONFIGURED FSTAB FOR BASE SYSTEM\n', input)).toBe(
      '# /etc/fstab: written by trowel when this machine was provisioned.\n' +
      '# <file system>\t<mount point>\t<type>\t<options>\t<dump>\t<pass>\n' +
      'UUID=5b0f3a70-8a55-4b8e-a0a8-3f6c1b0d2e11\t/\tbtrfs\tdefaults,subvol=/@root:org.example.Demo:x86_64:20261122T023710Z\t0\t0\n' +
      'UUID=5b0f3a70-8a55-4b8e-a0a8-3f6c1b0d2e11\t/home\tbtrfs\tdefaults,subvol=/@home\t0\t0\n' +
      'UUID=5b0f3a70-8a55-4b8e-a0a8-3f6c1b0d2e11\t/var/lib/trowel-persistent\tbtrfs\tdefaults,subvol=/@persistent\t0\t0\n' +
      'UUID=A1B2-C3D4\t/boot/efi\tvfat\tumask=0077\t0\t0\n',
    );
  });

  it("keeps the template's non-disk entries and drops its disk entries and our mount points", () => {
    const template = 'tmpfs /tmp tmpfs nosuid,nodev 0 0\nUUID=1234 / ext4 defaults 0 1\n/dev/sda2 /srv ext4 defaults 0 2\nproc /home proc defaults 0 0\n/srv/a /mnt/a none bind 0 0\n';
    const lines = buildFstab(template, { ...input, espUuid: undefined }).trimEnd().split('\n');
    expect(lines.slice(5)).toEqual(['tmpfs /tmp tmpfs nosuid,nodev 0 0', '/srv/a /mnt/a none bind 0 0']);
    expect(lines.some((l) => l.includes('/boot/efi'))).toBe(false);
  });
});

describe('buildHosts', () => {
  it('puts the host name on 127.0.1.1 after localhost, replacing an old entry', () => {
    expect(buildHosts('127.0.0.1\tlocalhost\n127.0.1.1\ttemplate\n::1\tlocalhost\n', 'web-01')).toBe('127.0.0.1\tlocalhost\n127.0.1.1\tweb-01\n::1\tlocalhost\n');
  });
  it('adds the short name for a fully qualified name, and writes a whole file when there is none', () => {
    expect(buildHosts(undefined, 'web-01.example.org')).toBe(
      '127.0.0.1\tlocalhost\n127.0.1.1\tweb-01.example.org web-01\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n',
    );
  });
  it('puts the entry first when there is no localhost line', () => {
    expect(buildHosts('10.0.0.5 other\n', 'a')).toBe('127.0.1.1\ta\n10.0.0.5 other\n');
  });
});

describe('newMachineId', () => {
  it('is 32 lowercase hex digits and a newline, new each time', () => {
    const a = newMachineId();
    expect(a).toMatch(/^[0-9a-f]{32}\n$/);
    expect(newMachineId()).not.toBe(a);
  });
});
