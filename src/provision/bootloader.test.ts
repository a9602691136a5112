import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { checkGrubConfig } from './bootloader.ts';

const ROOT = '@root:org.example.Demo:x86_64:20261122T023710Z';

// The shape of Debian 12's grub-mkconfig output for a btrfs subvolume root (10_linux), cut to the entries.
const CFG = `### BEGIN /etc/grub.d/10_linux ###
menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-simple-5b0f3a70' {
	load_video
	insmod btrfs
	search --no-floppy --fs-uuid --set=root 5b0f3a70-8a55-4b8e-a0a8-3f6c1b0d2e11
	echo	'Loading Linux 6.1.0-28-amd64 ...'
	linux	/${ROOT}/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b0f3a70-8a55-4b8e-a0a8-3f6c1b0d2e11 ro rootflags=subvol=${ROOT}  console=ttyS0
	initrd	/${ROOT}/boot/initrd.img-6.1.0-28-amd64
}
submenu 'Advanced options for Debian GNU/Linux' {
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-28-amd64 (recovery mode)' {
		linux	/${ROOT}/boot/vmlinuz-6.1.0-28-amd64 root=UUID=5b0f3a70-8a55-4b8e-a0a8-3f6c1b0d2e11 ro single rootflags=subvol=${ROOT}
	}
}
`;

function error(f: () => void): TrowelError {
  try {
    f();
  } catch (e) {
    if (e instanceof TrowelError) return e;
    throw e;
  }
  throw new Error('expected a TrowelError');
}

describe('checkGrubConfig', () => {
  it('accepts a config whose default entry mounts the root subvolume', () => {
    expect(() => checkGrubConfig(CFG, ROOT)).not.toThrow();
    expect(() => checkGrubConfig(CFG.replaceAll(`rootflags=subvol=${ROOT}`, `rootflags=subvol=/${ROOT}`), ROOT)).not.toThrow();
  });

  it('refuses a config that mounts another subvolume or none', () => {
    const e = error(() => checkGrubConfig(CFG, '@root:org.example.Demo:x86_64:20261123T000000Z'));
    expect(e.code).toBe('EBOOTLOADER');
    expect(e.message).toBe('Cannot make the disk boot: grub.cfg does not mount the root subvolume (rootflags=subvol=@root:org.example.Demo:x86_64:20261123T000000Z is missing)');
    expect(error(() => checkGrubConfig(CFG.replace(`rootflags=subvol=${ROOT}  `, ''), ROOT)).code).toBe('EBOOTLOADER');
  });

  it('refuses a config without any kernel', () => {
    expect(error(() => checkGrubConfig('set timeout=5\n', ROOT)).message).toBe('Cannot make the disk boot: grub-mkconfig found no kernel in /boot of the template');
  });
});
