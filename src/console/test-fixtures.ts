/**
 * Test helper (not part of the product): disks, templates and stand-in
 * services for the console's unit tests.
 */
import type { Disk, Partition } from '../disks/types.ts';
import type { RemoteTemplate } from '../stream/template-api.ts';
import type { ConsoleServices } from './session.ts';

const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export function partition(disk: string, number: number, startMiB: number, sizeMiB: number, fs?: { type: string; label?: string }): Partition {
  return {
    name: `${disk}${number}`, path: `/dev/${disk}${number}`, number, startBytes: startMiB * MiB, sizeBytes: sizeMiB * MiB,
    partLabel: undefined, partType: undefined, filesystem: fs && { type: fs.type, label: fs.label, uuid: undefined },
  };
}

export function disk(name: string, options: Partial<Disk> = {}): Disk {
  return {
    name, path: `/dev/${name}`, model: 'TEST DISK', vendor: undefined, serial: `SN-${name}`, wwid: undefined, sizeBytes: 4 * GiB,
    logicalBlockSize: 512, rotational: false, removable: false, readonly: false, transport: 'virtio', partitions: [],
    partitionTable: undefined, filesystem: undefined, probeError: undefined, ...options,
  };
}

/** A blank disk, one with Windows beside free space, and one with a trowel pool. */
export function sampleDisks(): Disk[] {
  return [
    disk('vda'),
    disk('vdb', { partitionTable: 'gpt', partitions: [partition('vdb', 1, 1, 100, { type: 'vfat' }), partition('vdb', 2, 101, 1000, { type: 'ntfs', label: 'Windows' })] }),
    disk('vdc', {
      partitionTable: 'gpt',
      partitions: [partition('vdc', 1, 1, 1), partition('vdc', 2, 2, 256, { type: 'vfat', label: 'TROWEL-ESP' }), partition('vdc', 3, 258, 3800, { type: 'btrfs', label: 'trowel' })],
    }),
  ];
}

export const TEMPLATES: RemoteTemplate[] = [
  {
    name: 'org.example.Desktop', arch: 'x86_64', versions: [
      { version: '20260102T000000Z', parent: '20260101T000000Z', sizeBytes: 900 * MiB, publishedAt: '2026-01-02T00:00:00.000Z' },
      { version: '20260101T000000Z', parent: null, sizeBytes: 880 * MiB, publishedAt: '2026-01-01T00:00:00.000Z' },
    ],
  },
  { name: 'org.example.Server', arch: 'x86_64', versions: [{ version: '20260103T000000Z', parent: null, sizeBytes: 400 * MiB, publishedAt: '2026-01-03T00:00:00.000Z' }] },
];

/** Services that answer from memory and record what was asked of them. */
export function fakeServices(overrides: Partial<ConsoleServices> = {}): ConsoleServices & { calls: string[] } {
  const calls: string[] = [];
  const services: ConsoleServices = {
    connect: async (url) => {
      calls.push(`connect ${url}`);
      return TEMPLATES;
    },
    discoverDisks: async () => sampleDisks(),
    readPool: async (d) => {
      calls.push(`readPool ${d.path}`);
      return ['@home', '@persistent', '@root:org.example.Desktop:x86_64:20260101T000000Z', '@template:org.example.Desktop:x86_64:20260101T000000Z'];
    },
    packageDiff: async (_server, ref, parent) => {
      calls.push(`diff ${ref.version} ${parent}`);
      return { added: [{ name: 'vim', version: '9', arch: 'amd64' }], removed: [], changed: [{ name: 'bash', arch: 'amd64', from: '5.1', to: '5.2' }] };
    },
    plan: async (choices) => {
      calls.push(`plan ${JSON.stringify(choices)}`);
      return { hostname: 'trowel-525400123456', partitions: choices.layout === 'keep' ? undefined : [{ path: `${choices.disk}1`, role: 'BIOS boot', sizeBytes: MiB }] };
    },
    provision: async (choices, onEvent) => {
      calls.push(`provision ${JSON.stringify(choices)}`);
      onEvent({ step: 'receive', state: 'started' });
      onEvent({ step: 'receive', state: 'progress', bytes: 10, totalBytes: 20, rate: 5 });
      onEvent({ step: 'complete', state: 'done' });
      return { rootSubvolume: `@root:${choices.template}:x86_64:${choices.version}`, disk: choices.disk! };
    },
    collectHardware: async () => ({
      collectedAt: '2026-01-01T00:00:00.000Z', system: { vendor: 'QEMU', product: 'PC', serial: undefined },
      cpu: { model: 'CPU', threads: 2, cores: 2, sockets: 1 }, memoryBytes: GiB, nics: [], disks: [],
    }),
    sendInventory: async (server) => void calls.push(`send ${server}`),
    shell: async () => void calls.push('shell'),
    reboot: async () => void calls.push('reboot'),
    powerOff: async () => void calls.push('poweroff'),
    quit: () => void calls.push('quit'),
    ...overrides,
  };
  return Object.assign(services, { calls });
}
