/**
 * Reads this machine's hardware from /proc and /sys (files only, so a
 * recorded tree works as well): DMI identity, CPU, memory, Ethernet NICs with
 * MAC and link, and the disks discovery finds.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { discoverDisks } from '../disks/discover.ts';
import type { Disk } from '../disks/types.ts';
import { parseCpuinfo, parseMeminfo } from './proc.ts';
import type { Inventory, InventoryDisk, InventoryNic } from './types.ts';

export interface CollectOptions {
  /** Default /proc. */
  procRoot?: string;
  /** Default /sys. */
  sysfsRoot?: string;
  /** Disks already discovered (the console has them); default: discover them here. */
  disks?: readonly Disk[];
  now?: () => Date;
}

/** ARPHRD_ETHER (include/uapi/linux/if_arp.h): what /sys/class/net/<if>/type says for Ethernet. */
const ARPHRD_ETHER = '1';

export async function collectInventory(options: CollectOptions = {}): Promise<Inventory> {
  const proc = options.procRoot ?? '/proc';
  const sys = options.sysfsRoot ?? '/sys';
  const dmi = (name: string) => text(join(sys, 'class/dmi/id', name));
  const disks = options.disks ?? (await discoverDisks({ sysfsRoot: sys }));
  return {
    collectedAt: (options.now?.() ?? new Date()).toISOString(),
    system: { vendor: await dmi('sys_vendor'), product: await dmi('product_name'), serial: await dmi('product_serial') },
    cpu: parseCpuinfo((await text(join(proc, 'cpuinfo'))) ?? ''),
    memoryBytes: parseMeminfo((await text(join(proc, 'meminfo'))) ?? ''),
    nics: await readNics(join(sys, 'class/net')),
    disks: disks.map(inventoryDisk),
  };
}

/** The inventory's view of a discovered disk. */
export function inventoryDisk(d: Disk): InventoryDisk {
  return { name: d.name, model: d.model, serial: d.serial, sizeBytes: d.sizeBytes, transport: d.transport, rotational: d.rotational };
}

/** @private Ethernet interfaces backed by a device (not bridges, veths or taps), in name order. */
async function readNics(dir: string): Promise<InventoryNic[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const nics: InventoryNic[] = [];
  for (const name of names) {
    const at = (f: string) => text(join(dir, name, f));
    if ((await at('type')) !== ARPHRD_ETHER) continue;
    const driver = await readlink(join(dir, name, 'device/driver')).then(basename, () => undefined);
    if (driver === undefined) continue;
    const carrier = (await at('carrier')) === '1';
    const speed = Number(await at('speed'));
    nics.push({
      name,
      mac: (await at('address')) ?? '',
      state: (await at('operstate')) ?? 'unknown',
      carrier,
      // Drivers report -1 (or fail the read) without a link.
      speedMbps: carrier && Number.isFinite(speed) && speed > 0 ? speed : undefined,
      driver,
    });
  }
  return nics;
}

/** @private A trimmed attribute, or undefined when absent, unreadable (carrier of a down link) or empty. */
async function text(path: string): Promise<string | undefined> {
  const value = await readFile(path, 'utf8').then((t) => t.trim(), () => '');
  return value === '' ? undefined : value;
}
