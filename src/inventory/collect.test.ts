import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectInventory } from './collect.ts';
import { inventoryLines } from './format.ts';
import { parseInventory } from './parse.ts';
import type { Inventory } from './types.ts';

let root: string;

async function put(path: string, content: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'trowel-inventory-'));
  await put('proc/cpuinfo', 'processor\t: 0\nmodel name\t: QEMU Virtual CPU\nphysical id\t: 0\ncore id\t: 0\n\nprocessor\t: 1\nmodel name\t: QEMU Virtual CPU\nphysical id\t: 0\ncore id\t: 1\n');
  await put('proc/meminfo', 'MemTotal:        2097152 kB\n');
  await put('sys/class/dmi/id/sys_vendor', 'QEMU\n');
  await put('sys/class/dmi/id/product_name', 'Standard PC (Q35 + ICH9, 2009)\n');
  await mkdir(join(root, 'sys/block'), { recursive: true });
  await mkdir(join(root, 'sys/bus/pci/drivers/virtio_net'), { recursive: true });
  for (const [name, type, carrier, speed, device] of [['eth0', '1', '1', '1000', true], ['eth1', '1', '0', '-1', true], ['br0', '1', '1', '', false], ['lo', '772', '1', '', false]] as const) {
    await put(`sys/class/net/${name}/type`, `${type}\n`);
    await put(`sys/class/net/${name}/address`, `52:54:00:00:00:0${name.length}\n`);
    await put(`sys/class/net/${name}/operstate`, carrier === '1' ? 'up\n' : 'down\n');
    await put(`sys/class/net/${name}/carrier`, `${carrier}\n`);
    await put(`sys/class/net/${name}/speed`, `${speed}\n`);
    if (device) {
      await mkdir(join(root, `sys/class/net/${name}/device`), { recursive: true });
      await symlink(join(root, 'sys/bus/pci/drivers/virtio_net'), join(root, `sys/class/net/${name}/device/driver`));
    }
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('collectInventory', () => {
  it('reads DMI, CPU, memory and the Ethernet NICs that have a device, skipping bridges and loopback', async () => {
    const inv = await collectInventory({ procRoot: join(root, 'proc'), sysfsRoot: join(root, 'sys'), disks: [], now: () => new Date(Date.UTC(2026, 0, 2)) });
    expect(inv).toEqual({
      collectedAt: '2026-01-02T00:00:00.000Z',
      system: { vendor: 'QEMU', product: 'Standard PC (Q35 + ICH9, 2009)', serial: undefined },
      cpu: { model: 'QEMU Virtual CPU', threads: 2, cores: 2, sockets: 1 },
      memoryBytes: 2 * 2 ** 30,
      nics: [
        { name: 'eth0', mac: '52:54:00:00:00:04', state: 'up', carrier: true, speedMbps: 1000, driver: 'virtio_net' },
        { name: 'eth1', mac: '52:54:00:00:00:04', state: 'down', carrier: false, speedMbps: undefined, driver: 'virtio_net' },
      ],
      disks: [],
    });
  });
});

const SAMPLE: Inventory = {
  collectedAt: '2026-01-02T00:00:00.000Z',
  system: { vendor: 'Dell Inc.', product: 'PowerEdge R640', serial: 'ABC123' },
  cpu: { model: 'Xeon', threads: 8, cores: 4, sockets: 1 },
  memoryBytes: 16 * 2 ** 30,
  nics: [{ name: 'eno1', mac: 'aa:bb:cc:dd:ee:ff', state: 'up', carrier: true, speedMbps: 10000, driver: 'ixgbe' }, { name: 'eno2', mac: 'aa:bb:cc:dd:ee:00', state: 'down', carrier: false, speedMbps: undefined, driver: 'ixgbe' }],
  disks: [{ name: 'sda', model: 'ST1000', serial: 'Z1', sizeBytes: 1000 * 2 ** 30, transport: 'sata', rotational: true }],
};

describe('inventoryLines', () => {
  it('prints one line per part, NICs with MAC and link, disks with size and serial', () => {
    expect(inventoryLines(SAMPLE)).toEqual([
      'System  Dell Inc. PowerEdge R640, serial ABC123',
      'CPU     Xeon (1 socket, 4 cores, 8 threads)',
      'Memory  16.0 GiB',
      'NICs    eno1 aa:bb:cc:dd:ee:ff link up 10 Gbit/s ixgbe',
      '        eno2 aa:bb:cc:dd:ee:00 no link (down) ixgbe',
      'Disks   sda 1000.0 GiB sata HDD, ST1000, serial Z1',
    ]);
  });
});

describe('parseInventory', () => {
  it('round-trips a collected inventory and drops unknown fields', () => {
    const sent = JSON.parse(JSON.stringify({ ...SAMPLE, extra: 'x', cpu: { ...SAMPLE.cpu, flags: 'fpu' } }));
    expect(parseInventory(sent)).toEqual(JSON.parse(JSON.stringify(SAMPLE)));
  });

  it('names the first bad field', () => {
    expect(() => parseInventory({ ...SAMPLE, memoryBytes: -1 })).toThrow('Cannot accept the inventory: memoryBytes must be a whole number of at least 0');
    expect(() => parseInventory({ ...SAMPLE, nics: [{ name: '' }] })).toThrow('Cannot accept the inventory: nics[0].name must be a string of 1 to 256 characters');
    expect(() => parseInventory([])).toThrow('Cannot accept the inventory: the inventory must be an object');
  });
});
