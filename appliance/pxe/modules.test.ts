import { describe, expect, it } from 'vitest';
import { checkModuleFormat, modulesDir, parseMissingModules, parseShowDepends } from './modules.ts';

describe('parseShowDepends', () => {
  it('parseShowDepends keeps load order, drops repeats and options, and lists builtins', () => {
    const text = [
      'insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/net/phy/libphy.ko ',
      'insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/net/phy/realtek.ko ',
      'insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/net/phy/libphy.ko ',
      'insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/net/ethernet/realtek/r8169.ko use_dac=1',
      'builtin sha256_generic',
      'builtin sha256_generic',
      '',
    ].join('\n');
    expect(parseShowDepends(text)).toEqual({
      files: [
        '/lib/modules/6.1.0-56-amd64/kernel/drivers/net/phy/libphy.ko',
        '/lib/modules/6.1.0-56-amd64/kernel/drivers/net/phy/realtek.ko',
        '/lib/modules/6.1.0-56-amd64/kernel/drivers/net/ethernet/realtek/r8169.ko',
      ],
      builtin: ['sha256_generic'],
    });
  });

  it('parseShowDepends finds nothing in empty output', () => {
    expect(parseShowDepends('')).toEqual({ files: [], builtin: [] });
  });
});

describe('parseMissingModules', () => {
  it('parseMissingModules names each module kmod warned about', () => {
    const stderr = 'modprobe: WARNING: Module virtio_nett not found in directory /lib/modules/6.1.0-56-amd64\n' +
      'modprobe: WARNING: Module e1001 not found in directory /lib/modules/6.1.0-56-amd64\n';
    expect(parseMissingModules(stderr)).toEqual(['virtio_nett', 'e1001']);
  });
});

describe('modulesDir', () => {
  it('modulesDir puts the version under lib/modules of the root', () => {
    expect(modulesDir('6.1.0-56-amd64')).toBe('/lib/modules/6.1.0-56-amd64');
    expect(modulesDir('6.1.0-56-amd64', '/tmp/stage')).toBe('/tmp/stage/lib/modules/6.1.0-56-amd64');
  });
});

describe('checkModuleFormat', () => {
  it('checkModuleFormat accepts plain .ko files', () => {
    expect(() => checkModuleFormat(['/lib/modules/6.1.0-56-amd64/kernel/fs/btrfs/btrfs.ko'])).not.toThrow();
  });

  it('checkModuleFormat refuses compressed modules, naming the first', () => {
    expect(() => checkModuleFormat(['/m/a.ko', '/m/b.ko.zst', '/m/c.ko.xz'])).toThrow(/\/m\/b\.ko\.zst is compressed/);
  });
});
