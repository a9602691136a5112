import { describe, expect, it } from 'vitest';
import type { Netns } from './netns.ts';
import { qemuArgs, serialLines, startVm, type VmOptions } from './qemu.ts';

const ns = { name: 'unused' } as Netns;
const base: VmOptions = { ns, tap: 'tap0', firmware: 'bios', mac: '52:54:00:AB:00:01' };

/** The value following `flag` each time it occurs. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));
}

describe('qemuArgs', () => {
  it('qemuArgs bios: TCG, 512 MiB, serial to the log, NIC first with the iPXE ROM and a lower-case MAC', () => {
    const args = qemuArgs(base, { serialLog: '/t/serial.log' });
    expect(values(args, '-accel')).toEqual(['tcg']);
    expect(values(args, '-m')).toEqual(['512']);
    expect(values(args, '-smp')).toEqual(['1']);
    expect(values(args, '-serial')).toEqual(['file:/t/serial.log']);
    expect(args).toContain('-no-reboot');
    expect(values(args, '-netdev')).toEqual(['tap,id=net0,ifname=tap0,script=no,downscript=no']);
    expect(values(args, '-device')).toEqual(['virtio-net-pci,netdev=net0,mac=52:54:00:ab:00:01,bootindex=1']);
    expect(args.join(' ')).not.toMatch(/pflash|kvm/);
  });

  it('qemuArgs uefi: read-only OVMF code, the per-VM vars copy, and no NIC ROM by default', () => {
    const args = qemuArgs({ ...base, firmware: 'uefi' }, { serialLog: '/t/s', vars: '/t/vars.fd' });
    expect(values(args, '-drive')).toEqual([
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      'if=pflash,format=raw,unit=1,file=/t/vars.fd',
    ]);
    expect(values(args, '-device')).toEqual(['virtio-net-pci,netdev=net0,mac=52:54:00:ab:00:01,romfile=,bootindex=1']);
  });

  it('qemuArgs uefi with nicBoot ipxe keeps the ROM; a missing vars copy is refused', () => {
    const args = qemuArgs({ ...base, firmware: 'uefi', nicBoot: 'ipxe' }, { serialLog: '/t/s', vars: '/t/v' });
    expect(values(args, '-device')[0]).not.toContain('romfile');
    expect(() => qemuArgs({ ...base, firmware: 'uefi' }, { serialLog: '/t/s' })).toThrow(/OVMF_VARS/);
  });

  it.each([
    ['virtio', 'virtio-blk-pci,drive=disk0,bootindex=2'],
    ['sata', 'ide-hd,drive=disk0,bus=ide.0,bootindex=2'],
    ['nvme', 'nvme,drive=disk0,serial=trowel0001,bootindex=2'],
  ] as const)('qemuArgs disk on %s boots after the NIC', (bus, device) => {
    const args = qemuArgs({ ...base, memoryMiB: 256, cpus: 2, disk: { bus, sizeMiB: 64 } }, { serialLog: '/t/s', disk: '/t/d.qcow2' });
    expect(values(args, '-m')).toEqual(['256']);
    expect(values(args, '-smp')).toEqual(['2']);
    expect(values(args, '-drive')).toEqual(['if=none,id=disk0,format=qcow2,file=/t/d.qcow2']);
    expect(values(args, '-device')[1]).toBe(device);
  });
});

describe('qemuArgs directBoot', () => {
  it('qemuArgs directBoot passes kernel, initramfs and the command line as single arguments', () => {
    const args = qemuArgs({ ...base, directBoot: { kernel: '/i/vmlinuz', initrd: '/i/initramfs', args: 'console=ttyS0 trowel.mac=x' } }, { serialLog: '/t/s' });
    expect(values(args, '-kernel')).toEqual(['/i/vmlinuz']);
    expect(values(args, '-initrd')).toEqual(['/i/initramfs']);
    expect(values(args, '-append')).toEqual(['console=ttyS0 trowel.mac=x']);
  });
});

describe('serialLines', () => {
  it('serialLines drops escape sequences and splits on CRLF, LF and lone CR', () => {
    const text = '\x1bc\x1b[0;1miPXE 1.0.0\x1b[0m -- Open\r\n\x1b[=3hConfiguring...\rok  \n\x1b[?25llast';
    expect(serialLines(text)).toEqual(['iPXE 1.0.0 -- Open', 'Configuring...', 'ok', 'last']);
  });
});

describe('startVm', () => {
  it('startVm refuses a malformed MAC before creating anything', async () => {
    await expect(startVm({ ...base, mac: '52:54:00:ab:01' })).rejects.toThrow(/Cannot start a VM: "52:54:00:ab:01" is not a MAC address/);
  });
});
