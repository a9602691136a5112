import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../log/logger.ts';
import { formatEvent, provisionCommand } from './provision.ts';

const SYSFS = join(import.meta.dirname, '../../test/fixtures/sysfs');

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const logs: LogRecord[] = [];
  return {
    io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env: {} },
    sink: (r: LogRecord) => void logs.push(r),
    out: () => out.join(''),
    err: () => err.join(''),
    logs,
  };
}

describe('trowel provision --dry-run', () => {
  it('chooses the only fixed disk, prints the plan and the sfdisk script, and writes nothing', async () => {
    const t = io();
    const cmdline = 'console=ttyS0 trowel.template=org.example.Demo trowel.mac=52:54:00:00:00:01 trowel.mode=unattended';
    const code = await provisionCommand(['--dry-run', '--sysfs', join(SYSFS, 'q35-nvme'), '--cmdline', cmdline], t.io, t.sink);
    expect(t.err()).toBe(
      '[discover] started\n' +
      '[discover] done: /dev/nvme0n1 (16.0 GiB nvme, QEMU NVMe Ctrl, serial NVME-TARGET-1); /dev/sda (8.00 GiB usb, QEMU HARDDISK, serial USB-STICK-1)\n' +
      '[plan] started\n' +
      '[plan] done: /dev/nvme0n1 (16.0 GiB nvme, QEMU NVMe Ctrl, serial NVME-TARGET-1), layout auto (gpt), org.example.Demo x86_64 latest\n',
    );
    expect(code).toBe(0);
    expect(t.out()).toBe([
      'template  org.example.Demo x86_64 latest',
      'hostname  trowel-525400000001',
      'disk      /dev/nvme0n1 (16.0 GiB nvme, QEMU NVMe Ctrl, serial NVME-TARGET-1)',
      'layout    auto',
      'partitions',
      '  /dev/nvme0n1p1  bios  1.00 MiB',
      '  /dev/nvme0n1p2  esp  256.0 MiB',
      '  /dev/nvme0n1p3  pool  rest of the disk',
      'sfdisk script for /dev/nvme0n1:',
      '  label: gpt',
      '  size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"',
      '  size=256MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"',
      '  type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="pool"',
      'nothing was written (dry run)',
      '',
    ].join('\n'));
  });

  it('exits 1 with one line when auto cannot choose', async () => {
    const t = io();
    const code = await provisionCommand(['--dry-run', '--sysfs', join(SYSFS, 'q35-mixed'), '--cmdline', 'trowel.template=org.example.Demo'], t.io, t.sink);
    expect(code).toBe(1);
    expect(t.err()).toMatch(/^\[discover\] started\n\[discover\] done: .*\n\[plan\] started\n\[plan\] failed: Cannot choose a disk: none of the 5 qualifies \(/);
    expect(t.err().trimEnd().split('\n').at(-1)).toMatch(/^trowel provision: Cannot choose a disk: none of the 5 qualifies \(.*\) \(name one with trowel.disk=/);
    expect(t.logs.find((r) => r.event === 'provision_failed')).toMatchObject({ step: 'plan' });
  });

  it('exits 1 on a bad kernel argument before looking at any disk', async () => {
    const t = io();
    expect(await provisionCommand(['--dry-run', '--sysfs', join(SYSFS, 'q35-nvme'), '--cmdline', 'trowel.layout=zfs'], t.io, t.sink)).toBe(1);
    expect(t.err()).toBe('trowel provision: Cannot use kernel argument trowel.layout=zfs: it must be one of auto, gpt-uefi, gpt-bios, mbr, keep, free (see docs/provisioning.md, "Kernel arguments")\n');
  });

  it('prints its help', async () => {
    const t = io();
    expect(await provisionCommand(['--help'], t.io, t.sink)).toBe(0);
    expect(t.out()).toMatch(/^usage: trowel provision \[--dry-run\]/);
  });
});

describe('formatEvent', () => {
  it('shows amounts, rates, messages and errors', () => {
    expect(formatEvent({ step: 'receive', state: 'progress', bytes: 12 * 2 ** 20, totalBytes: 30 * 2 ** 20, rate: 4 * 2 ** 20 })).toBe('[receive] progress 12.0 MiB / 30.0 MiB 4.00 MiB/s');
    expect(formatEvent({ step: 'mkfs', state: 'failed', error: 'Cannot run mkfs.btrfs: exit status 1' })).toBe('[mkfs] failed: Cannot run mkfs.btrfs: exit status 1');
  });
});
