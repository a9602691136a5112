import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { parseCmdline, splitCmdline } from './cmdline.ts';

describe('splitCmdline', () => {
  it('splits at whitespace and keeps quoted spaces, dropping the quotes like the kernel', () => {
    expect(splitCmdline('  console=ttyS0  trowel.hostname="a b" quiet\n')).toEqual(['console=ttyS0', 'trowel.hostname=a b', 'quiet']);
    expect(splitCmdline('"trowel.disk=/dev/vda" x=""')).toEqual(['trowel.disk=/dev/vda', 'x=']);
    expect(splitCmdline('')).toEqual([]);
  });
});

describe('parseCmdline', () => {
  it('reads every trowel argument the PXE boot script sends and ignores the rest', () => {
    const cmdline = 'BOOT_IMAGE=vmlinuz console=ttyS0,115200 trowel.server=http://10.0.0.1:8080/ trowel.mac=52:54:00:AB:CD:EF ' +
      'trowel.token=tok-123 trowel.action=provision trowel.mode=unattended trowel.template=org.example.Demo trowel.version=latest ' +
      'trowel.arch=x86_64 trowel.disk=/dev/nvme0n1 trowel.layout=gpt-uefi trowel.wipe=1 trowel.hostname=web-01 ' +
      'trowel.key=MCowBQYDK2VwAyEA3q2+7w== trowel.transport=http trowel.bench=dd';
    expect(parseCmdline(cmdline)).toEqual({
      args: {
        server: 'http://10.0.0.1:8080', mac: '52:54:00:ab:cd:ef', token: 'tok-123', action: 'provision', mode: 'unattended',
        template: 'org.example.Demo', version: 'latest', arch: 'x86_64', disk: '/dev/nvme0n1', layout: 'gpt-uefi', wipe: true,
        hostname: 'web-01', key: 'MCowBQYDK2VwAyEA3q2+7w==', transport: 'http', bench: 'dd',
      },
      unknown: [],
    });
  });

  it('takes a bare flag as 1 and 0/no/false as off', () => {
    expect(parseCmdline('trowel.wipe').args.wipe).toBe(true);
    expect(parseCmdline('trowel.wipe=0').args.wipe).toBe(false);
    expect(parseCmdline('trowel.wipe=no').args.wipe).toBe(false);
  });

  it('lists unknown trowel arguments instead of failing on them', () => {
    expect(parseCmdline('trowel.colour=blue trowel.disk=auto').unknown).toEqual(['trowel.colour']);
  });

  it('lets a later argument win, like the kernel', () => {
    expect(parseCmdline('trowel.disk=/dev/sda trowel.disk=/dev/sdb').args.disk).toBe('/dev/sdb');
  });

  it('refuses bad values with one line naming the argument', () => {
    const cases: [string, string][] = [
      ['trowel.layout=zfs', 'Cannot use kernel argument trowel.layout=zfs: it must be one of auto, gpt-uefi, gpt-bios, mbr, keep, free'],
      ['trowel.wipe=maybe', 'Cannot use kernel argument trowel.wipe=maybe: it must be 1 or 0'],
      ['trowel.server=10.0.0.1', 'Cannot use kernel argument trowel.server=10.0.0.1: it must be an http:// or https:// URL'],
      ['trowel.template=', 'Cannot use kernel argument trowel.template=: it needs a value'],
      ['trowel.arch', 'Cannot use kernel argument trowel.arch: it needs a value'],
      ['trowel.mode=gui', 'Cannot use kernel argument trowel.mode=gui: it must be one of unattended, tui'],
    ];
    for (const [cmdline, message] of cases) {
      let error: unknown;
      try {
        parseCmdline(cmdline);
      } catch (e) {
        error = e;
      }
      expect(error, cmdline).toBeInstanceOf(TrowelError);
      expect((error as TrowelError).code).toBe('EKERNELARG');
      expect((error as TrowelError).message).toBe(message);
    }
  });
});
