import { describe, expect, it } from 'vitest';
import { bootScript, errorScript, localBootScript } from './ipxe-script.ts';

const boot = { serverUrl: 'http://10.0.0.1:8080', kernel: 'trowel/vmlinuz', initrd: 'trowel/initramfs.img', args: 'console=ttyS0 quiet' };

describe('bootScript', () => {
  it('discover loads kernel and initrd over HTTP, naming the initrd on the command line', () => {
    const script = bootScript({ mac: '52:54:00:00:00:01', token: 'tok_EN-1', action: 'discover' }, boot);
    expect(script).toBe(
      '#!ipxe\n' +
        'kernel http://10.0.0.1:8080/boot/files/trowel/vmlinuz initrd=initramfs.img trowel.server=http://10.0.0.1:8080 ' +
        'trowel.mac=52:54:00:00:00:01 trowel.token=tok_EN-1 trowel.action=discover console=ttyS0 quiet\n' +
        'initrd http://10.0.0.1:8080/boot/files/trowel/initramfs.img\n' +
        'boot\n',
    );
  });

  it('provision passes its action and leaves no trailing space without extra args', () => {
    const script = bootScript({ mac: 'aa:bb:cc:dd:ee:ff', token: 't', action: 'provision' }, { ...boot, kernel: 'vmlinuz', initrd: 'initrd', args: '' });
    expect(script.split('\n')[1]).toBe(
      'kernel http://10.0.0.1:8080/boot/files/vmlinuz initrd=initrd trowel.server=http://10.0.0.1:8080 trowel.mac=aa:bb:cc:dd:ee:ff trowel.token=t trowel.action=provision',
    );
  });

  it('local hands over to the disk: exit on EFI, sanboot 0x80 on BIOS', () => {
    const script = bootScript({ mac: '52:54:00:00:00:01', token: 'secret', action: 'local' }, boot);
    expect(script).toBe(localBootScript('52:54:00:00:00:01'));
    expect(script).toBe(
      [
        '#!ipxe',
        'echo trowel: 52:54:00:00:00:01 boots from its local disk',
        'iseq ${platform} efi && goto efi ||',
        'sanboot --no-describe --drive 0x80 || goto failed',
        ':efi',
        'exit',
        ':failed',
        'echo trowel: sanboot from the first hard disk failed',
        'sleep 10',
        'exit',
        '',
      ].join('\n'),
    );
    expect(script).not.toContain('secret');
  });
});

describe('errorScript', () => {
  it('echoes the problem, pauses, exits', () => {
    expect(errorScript('no mac')).toBe('#!ipxe\necho trowel: no mac\nsleep 10\nexit\n');
  });

  it('cannot be used to inject commands or expand settings', () => {
    const script = errorScript('"x" ${net0/ip}\nchain http://evil/');
    expect(script.split('\n')).toHaveLength(5);
    expect(script).not.toContain('${');
    expect(script).toContain('echo trowel: ?x? ??net0/ip??chain http://evil/');
  });
});

describe('bootScript extra arguments', () => {
  it('places server-decided trowel.* arguments before the config args', () => {
    const script = bootScript(
      { mac: '52:54:00:00:00:01', token: 't', action: 'provision', extraArgs: ['trowel.mode=unattended', 'trowel.key=AAAA'] },
      { serverUrl: 'http://10.0.0.1:8080', kernel: 'vmlinuz', initrd: 'initramfs', args: 'console=ttyS0' },
    );
    expect(script).toContain('trowel.action=provision trowel.mode=unattended trowel.key=AAAA console=ttyS0\n');
  });
});
