import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.ts';
import { MachineStore, openDatabase } from '../store/index.ts';
import { pxelinuxConfigFor, renderPxelinuxConfig } from './pxelinux-config.ts';

const config = parseConfig('listen: { address: 10.0.0.1 }\nhttp: { port: 8080 }\nboot: { kernel: vmlinuz, initrd: initramfs, args: console=ttyS0 }\n');

describe('renderPxelinuxConfig', () => {
  it('boots the PXE image over HTTP with per-machine arguments', () => {
    const text = renderPxelinuxConfig({ mac: '52:54:00:00:00:01', token: 'tok', action: 'discover' }, config);
    expect(text).toBe(
      [
        '# trowel: 52:54:00:00:00:01 action=discover',
        'DEFAULT trowel',
        'LABEL trowel',
        '  KERNEL http://10.0.0.1:8080/boot/files/vmlinuz',
        '  INITRD http://10.0.0.1:8080/boot/files/initramfs',
        '  APPEND trowel.server=http://10.0.0.1:8080 trowel.mac=52:54:00:00:00:01 trowel.token=tok trowel.action=discover console=ttyS0',
        '',
      ].join('\n'),
    );
  });

  it('boots the local disk when the action is local', () => {
    expect(renderPxelinuxConfig({ mac: '52:54:00:00:00:01', token: 't', action: 'local' }, config)).toContain('LOCALBOOT 0');
  });
});

describe('pxelinuxConfigFor', () => {
  it('answers only the per-MAC name and registers the machine', () => {
    const machines = new MachineStore(openDatabase(':memory:'));
    expect(pxelinuxConfigFor('pxelinux.cfg/default', machines, config)).toBeUndefined();
    expect(pxelinuxConfigFor('pxelinux.cfg/01-52-54-00-zz-00-01', machines, config)).toBeUndefined();
    const file = pxelinuxConfigFor('/pxelinux.cfg/01-52-54-00-AB-00-01', machines, config);
    expect(file?.toString()).toContain('trowel.mac=52:54:00:ab:00:01');
    expect(machines.get('52:54:00:ab:00:01')).toBeDefined();
  });
});
