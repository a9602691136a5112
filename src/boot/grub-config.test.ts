import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.ts';
import { MachineStore, openDatabase } from '../store/index.ts';
import { grubConfigFor, renderGrubConfig, renderGrubDispatcher } from './grub-config.ts';

const config = parseConfig('listen: { address: 10.0.0.1 }\n');
const MAC = '52:54:00:00:00:01';

describe('renderGrubDispatcher', () => {
  it('sources grub.cfg-01-<mac with dashes> built from $net_default_mac, and exits when it cannot', () => {
    expect(renderGrubDispatcher()).toBe(
      [
        '# trowel: every machine reads this, then its own grub.cfg-01-<mac>',
        'if regexp --set=1:m1 --set=2:m2 --set=3:m3 --set=4:m4 --set=5:m5 --set=6:m6 \'^(..):(..):(..):(..):(..):(..)$\' "$net_default_mac"; then',
        '  source "$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6"',
        'fi',
        'echo "trowel: no configuration for MAC \'$net_default_mac\'"',
        'echo "trowel: back to the firmware\'s next boot option"',
        'sleep 5',
        'exit',
        '',
      ].join('\n'),
    );
  });
});

describe('renderGrubConfig', () => {
  it('local: chainloads the first ESP loader found (removable path, then Debian\'s), else exits to the firmware', () => {
    expect(renderGrubConfig({ mac: MAC, action: 'local' }, config)).toBe(
      [
        '# trowel: 52:54:00:00:00:01 boots from its local disk',
        'echo "trowel: 52:54:00:00:00:01 boots from its local disk"',
        'for loader in /EFI/BOOT/BOOTX64.EFI /EFI/debian/grubx64.efi; do',
        '  if search --no-floppy --file --set=esp "$loader"; then',
        '    echo "trowel: chainloading ($esp)$loader"',
        '    set root="$esp"',
        '    chainloader "($esp)$loader"',
        '    boot',
        '  fi',
        'done',
        'echo "trowel: no disk holds /EFI/BOOT/BOOTX64.EFI or /EFI/debian/grubx64.efi"',
        'echo "trowel: back to the firmware\'s next boot option"',
        'sleep 5',
        'exit',
        '',
      ].join('\n'),
    );
  });

  it('any other action (changed after the offer): chainloads iPXE from trowel\'s TFTP', () => {
    const text = renderGrubConfig({ mac: MAC, action: 'provision' }, config);
    expect(text).toContain('echo "trowel: 52:54:00:00:00:01 action=provision: loading iPXE"\nchainloader (tftp,10.0.0.1)/ipxe.efi\nboot\n');
    expect(text).not.toContain('search');
  });
});

describe('grubConfigFor', () => {
  it('answers the dispatcher and the per-MAC name (GRUB\'s own 01-<mac> form), registering the machine', () => {
    const machines = new MachineStore(openDatabase(':memory:'));
    expect(grubConfigFor('grub/grub.cfg', machines, config)?.toString()).toBe(renderGrubDispatcher());
    const file = grubConfigFor('grub/grub.cfg-01-52-54-00-AB-00-01', machines, config)?.toString();
    expect(file).toContain('action=discover: loading iPXE');
    expect(machines.get('52:54:00:ab:00:01')).toBeDefined();
    machines.setAction('52:54:00:ab:00:01', 'local');
    expect(grubConfigFor('grub/grub.cfg-01-52-54-00-ab-00-01', machines, config)?.toString()).toContain('boots from its local disk');
  });

  it('leaves every other name to the filesystem', () => {
    const machines = new MachineStore(openDatabase(':memory:'));
    for (const path of ['grub/x86_64-efi/grub.cfg', 'grub.cfg', 'grub/grub.cfg-0A000064', 'grub/grub.cfg-01-52-54-00-zz-00-01', 'boot/grub/grub.cfg', 'grub/grub.cfg.bak']) {
      expect(grubConfigFor(path, machines, config), path).toBeUndefined();
    }
    expect(machines.list()).toEqual([]);
  });
});
