/**
 * The unattended provisioning pipeline (docs/provisioning.md): kernel
 * arguments + the server's plan -> discover disks -> choose one and plan its
 * partitions -> (only now write) partition -> mkfs -> receive the verified
 * template into the pool -> deploy a writable root -> bootloader, then make
 * the new root the default subvolume -> complete -> reboot. Every step is
 * reported to the server as started/done, or failed with the error; a
 * failure leaves the disk booting whatever it booted before (the default
 * subvolume only moves at the very end) and is thrown to the caller.
 */
import { mkdir, mkdtemp, readdir, realpath, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { blkidProbe, type BlkidReader } from '../disks/blkid.ts';
import { discoverDisks } from '../disks/discover.ts';
import { makeFilesystems, writePartitions } from '../disks/execute.ts';
import { describeDisk, pickDisk, trowelPartitions } from '../disks/pick.ts';
import { GPT_TYPE, minimumDiskBytes, planPartitions, type PartitionPlan } from '../disks/plan.ts';
import type { Disk } from '../disks/types.ts';
import { describeError, TrowelError } from '../errors.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { parseSubvolumeName, subvolumeName, type Arch, type TemplateRef } from '../pool/names.ts';
import { parsePublicKey } from '../stream/keys.ts';
import { receiveTemplate, type ReceiveOptions } from '../stream/receive.ts';
import { TemplateApi } from '../stream/template-api.ts';
import { setDefaultSubvolume } from '../sys/btrfs.ts';
import { describeWriteStage, measureDiskWrite } from '../sys/disk-write.ts';
import { installBootloader, type BootloaderResult, type Firmware } from './bootloader.ts';
import { parseCmdline, type KernelArgs } from './cmdline.ts';
import { deployRoot } from './deploy.ts';
import { mergePlan, type ProvisionPlan } from './plan.ts';
import { mountPoolTop, unmount } from './pool-mount.ts';
import { rebootMachine } from '../sys/power.ts';
import { receiveBody, withHttpFallback } from './receive-transport.ts';
import { StepReporter } from './reporter.ts';
import { ProvisionServer, type ProvisionEvent, type Step } from './server-client.ts';

export interface ProvisionOptions {
  /** The kernel command line (/proc/cmdline). */
  cmdline: string;
  /** Default /sys. */
  sysfsRoot?: string;
  /** Default /dev. */
  devRoot?: string;
  /** The machine API client; default: one built from trowel.server, trowel.mac and trowel.token. */
  server?: ProvisionServer;
  log?: Logger;
  /** Sees every step event (the CLI prints them). */
  onEvent?: (event: ProvisionEvent) => void;
  /** Plan and choose the disk, write nothing, post no events. */
  dryRun?: boolean;
  /** Where the temporary mount points go (default the OS temp dir). */
  workDir?: string;
  /** Restarts the machine at the end; false to skip (tests). Default: reboot -f, then SysRq. */
  reboot?: (() => Promise<void>) | false;
  /** Default: uefi when <sysfsRoot>/firmware/efi exists. */
  firmware?: Firmware;
  /** Smallest disk `auto` considers (default: what the layout needs). */
  minDiskBytes?: number;
  /** Filesystem prober for discovery (default blkid). */
  probe?: BlkidReader;
  /** Download tuning for the template stream (retries, timeouts, dispatcher). */
  fetch?: ReceiveOptions['fetch'];
  /**
   * What a technician chose at the console (`trowel tui`): wins over the
   * kernel arguments and the server's plan, field by field, and is checked
   * by the same rules (plan.ts).
   */
  choices?: Pick<KernelArgs, 'server' | 'template' | 'version' | 'arch' | 'disk' | 'layout' | 'wipe' | 'hostname' | 'transport'>;
  /** Test hook: runs after deploy, before the bootloader (e.g. to fail there). */
  beforeBootloader?: () => Promise<void>;
}

export interface ProvisionResult {
  plan: ProvisionPlan;
  disk: Disk;
  /** Undefined for layout keep. */
  partitions: PartitionPlan | undefined;
  dryRun: boolean;
  template?: TemplateRef;
  parent?: string | null;
  rootSubvolume?: string;
  bootloader?: BootloaderResult;
  /** Every step event, in order. */
  events: ProvisionEvent[];
}

export async function runProvision(options: ProvisionOptions): Promise<ProvisionResult> {
  const log = options.log ?? silentLogger;
  const sysfsRoot = options.sysfsRoot ?? '/sys';
  const parsed = parseCmdline(options.cmdline);
  if (parsed.unknown.length > 0) log.warn('kernel_args_unknown', { names: parsed.unknown });
  const args: KernelArgs = { ...parsed.args, ...definedOnly(options.choices ?? {}) };
  const server = options.server ?? (args.server && args.mac && args.token ? new ProvisionServer(args.server, args.mac, args.token) : undefined);
  // A dry run changes nothing anywhere, not even the machine's state on the server.
  const reporter = new StepReporter(options.dryRun ? undefined : server, { log, onEvent: options.onEvent });
  let current: Step = 'plan';
  const step = async <T>(name: Step, run: () => Promise<T>, done?: (result: T) => Omit<ProvisionEvent, 'step' | 'state'>): Promise<T> => {
    current = name;
    reporter.report({ step: name, state: 'started' });
    const result = await run();
    reporter.report({ step: name, state: 'done', ...done?.(result) });
    return result;
  };

  let work: { dir: string; pool: string; target: string; mounted: boolean } | undefined;
  try {
    const plan = mergePlan(server ? await server.getPlan() : null, args, { arch: runningArch(), mac: args.mac });
    log.info('plan', { ...plan, sources: undefined, from: plan.sources });
    const diskSpec = plan.disk.startsWith('/') ? await realpath(plan.disk).catch(() => plan.disk) : plan.disk;

    const disks = await step('discover', () => discoverDisks({
      sysfsRoot,
      devRoot: options.devRoot,
      // A named disk is listed even when its kind is normally skipped (a loop device in tests).
      include: diskSpec.startsWith('/') ? [basename(diskSpec)] : [],
      probe: options.probe ?? blkidProbe,
    }), (found) => ({ message: found.length === 0 ? 'no disks' : found.map(describeDisk).join('; ') }));

    const keep = plan.layout === 'keep';
    const chosen = await step('plan', async () => {
      const disk = pickDisk(disks, diskSpec, { wipe: plan.wipe, keep, free: plan.layout === 'free', minBytes: options.minDiskBytes ?? minimumDiskBytes(keep || plan.layout === 'mbr' ? 'mbr' : 'auto') });
      const partitions = keep ? undefined : planPartitions(disk, plan.layout);
      return { disk, partitions };
    }, ({ disk, partitions }) => ({
      message: `${describeDisk(disk)}, layout ${plan.layout}${partitions ? ` (${partitions.table})` : ''}, ${plan.template} ${plan.arch} ${plan.version}`,
    }));
    const result: ProvisionResult = { plan, disk: chosen.disk, partitions: chosen.partitions, dryRun: options.dryRun === true, events: reporter.history };
    if (options.dryRun) return result;

    // Everything the writes depend on is checked before the first one.
    if (!args.server) throw new TrowelError('ENOSERVER', 'Cannot provision: no server to receive the template from', { hint: 'boot with trowel.server=URL' });
    if (!args.key) throw new TrowelError('ENOKEY', 'Cannot provision: no pinned key to verify the template with', { hint: 'boot with trowel.key=<base64 SPKI DER> (trowel keys show prints it)' });
    const publicKey = parsePublicKey(args.key, 'trowel.key');
    const remote = await resolveRemote(args, plan, options);

    const { disk, partitions } = chosen;
    await step('partition', async () => {
      if (partitions) await writePartitions(disk, partitions, { log });
    }, () => ({ message: partitions ? `${partitions.table}: ${partitions.partitions.map((p) => `${p.role} ${p.path}`).join(', ')}` : 'kept the partitions on the disk' }));
    const devices = await step('mkfs', async () => {
      if (partitions) await makeFilesystems(partitions, { log });
      return targetDevices(disk, partitions);
    }, (d) => ({ message: partitions ? `vfat ${d.esp ?? '-'}, btrfs ${d.pool}` : 'kept the pool and the ESP' }));
    const probe = options.probe ?? blkidProbe;
    const poolUuid = (await probe(devices.pool)).filesystem?.uuid;
    const espUuid = devices.esp ? (await probe(devices.esp)).filesystem?.uuid : undefined;
    if (!poolUuid) throw new TrowelError('ENOPOOL', `Cannot find the pool on ${devices.pool}: blkid sees no filesystem UUID there`);
    // What the target's own /dev holds (target-chroot.ts): the disk, its partitions, UUID links.
    const blockDevices = [disk.name, ...(partitions ? partitions.partitions.map((p) => basename(p.path)) : disk.partitions.map((p) => p.name))];
    const uuids: Record<string, string> = { [poolUuid]: basename(devices.pool), ...(espUuid && devices.esp ? { [espUuid]: basename(devices.esp) } : {}) };

    const dir = await mkdtemp(join(options.workDir ?? tmpdir(), 'trowel-provision-'));
    work = { dir, pool: join(dir, 'pool'), target: join(dir, 'target'), mounted: false };
    await mkdir(work.pool);
    await mkdir(work.target);
    await mountPoolTop(devices.pool, work.pool);
    work.mounted = true;
    const pool = work.pool;

    const received = await step('receive', async () => {
      const onDisk = await versionsOnDisk(pool, plan.template, plan.arch);
      const ref: TemplateRef = { name: plan.template, arch: plan.arch, version: remote.version };
      if (onDisk.includes(remote.version)) return { ref, parent: null, subvolume: subvolumeName(ref), bytes: 0, unpackedBytes: 0, ms: 0, already: true };
      const parent = onDisk.filter((v) => v < remote.version && remote.known.has(v)).at(-1) ?? null;
      // The transport's own words (which session, or why HTTP after all) go into the step's events; plain HTTP says nothing.
      let via = '';
      const transport = {
        transport: plan.transport, server: args.server!, mac: args.mac, token: args.token, log,
        note: (message: string, kind?: 'transport' | 'report') => {
          // The done event carries these words too: progress events are thinned to one a second.
          via = kind === 'report' ? `${via}; ${message}` : message.replace(/^warning: /, '');
          reporter.report({ step: 'receive', state: 'progress', message });
        },
      };
      const r = await withHttpFallback(receiveBody(transport), (body) => receiveTemplate({
        server: args.server!, name: plan.template, arch: plan.arch, version: remote.version, parent, intoDir: pool, publicKey, log, fetch: options.fetch, body,
        onProgress: (p) => reporter.report({ step: 'receive', state: 'progress', bytes: p.bytes, totalBytes: p.total, rate: Math.round(p.bytesPerSecond) }),
      }), transport);
      return { ref: r.ref, parent, subvolume: basename(r.path), bytes: r.manifest.compressedSize, unpackedBytes: r.manifest.uncompressedSize, ms: r.elapsedMs, already: false, via };
    }, (r) => ({
      bytes: r.bytes, totalBytes: r.bytes, rate: r.ms > 0 ? Math.round((r.bytes * 1000) / r.ms) : 0,
      message: r.already ? `${r.subvolume} is already on the disk` : `${r.subvolume}${r.parent ? ` (incremental from ${r.parent})` : ''}${r.via ? ` ${r.via}` : ''}`,
    }));
    result.template = received.ref;
    result.parent = received.parent;
    if (args.bench === 'dd' && received.unpackedBytes > 0) {
      await step('bench', () => measureDiskWrite(join(pool, '.trowel-bench-dd'), received.unpackedBytes),
        (w) => ({ bytes: w.bytes, rate: Math.round((w.bytes * 1000) / w.ddMs), message: describeWriteStage({ bytes: received.unpackedBytes, ms: received.ms }, w) }));
    }

    const root = await step('deploy', () => deployRoot({
      pool, templateSubvolume: received.subvolume, ref: received.ref, hostname: plan.hostname,
      poolDevice: devices.pool, poolUuid, espDevice: devices.esp, espUuid, disk: disk.path, mac: args.mac, mountpoint: work!.target, log,
      devices: blockDevices, uuids,
    }), (r) => ({ message: `${r.subvolume}, hostname ${plan.hostname}${r.hooks.length ? `, hooks ${r.hooks.join(' ')}` : ''}` }));
    result.rootSubvolume = root.subvolume;

    await options.beforeBootloader?.();
    result.bootloader = await step('bootloader', async () => {
      const firmware = options.firmware ?? (await detectFirmware(sysfsRoot));
      const installed = await installBootloader({
        root: root.path, disk: disk.path, firmware, arch: plan.arch, log,
        target: { poolDevice: devices.pool, subvolume: root.subvolume, espDevice: devices.esp, mountpoint: work!.target, devices: blockDevices, uuids },
        biosBootable: partitions
          ? partitions.table === 'dos' || partitions.partitions.some((p) => p.role === 'bios')
          : disk.partitionTable === 'dos' || disk.partitions.some((p) => p.partType?.toUpperCase() === GPT_TYPE.bios),
      });
      // Last: from here on the disk boots the new root.
      await setDefaultSubvolume(root.path);
      return installed;
    }, (b) => ({ message: b.skipped ? `skipped: ${b.skipped}; default subvolume ${root.subvolume}` : `${b.installed.join(', ')}; default subvolume ${root.subvolume}` }));

    await unmount(work.pool);
    work.mounted = false;
    reporter.report({ step: 'complete', state: 'done', message: `${root.subvolume} on ${disk.path}` });
    await reporter.flush();
    if (options.reboot !== false) {
      current = 'reboot';
      reporter.report({ step: 'reboot', state: 'started' });
      await reporter.flush();
      await (options.reboot ?? (() => rebootMachine(log)))();
    }
    return result;
  } catch (e) {
    log.error('provision_failed', { step: current, error: describeError(e) });
    reporter.report({ step: current, state: 'failed', error: describeError(e) });
    await reporter.flush();
    throw e;
  } finally {
    if (work) {
      if (work.mounted) await unmount(work.pool).catch((e: unknown) => log.error('unmount_failed', { path: work!.pool, error: describeError(e) }));
      // rmdir, never a recursive delete: a mount still there must not lose its files.
      for (const d of [work.pool, work.target, work.dir]) await rmdir(d).catch(() => {});
    }
  }
}

/** @private Drops undefined fields, so a choice left open does not hide a kernel argument. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** @private The arch trowel runs on, as template names spell it. */
function runningArch(): Arch {
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}

/** @private UEFI firmware exposes itself in sysfs (Documentation/ABI/testing/sysfs-firmware-efi). */
async function detectFirmware(sysfsRoot: string): Promise<Firmware> {
  return stat(join(sysfsRoot, 'firmware/efi')).then(() => 'uefi' as const, () => 'bios' as const);
}

/** @private The version to deploy and every version the server has (possible incremental bases). */
async function resolveRemote(args: KernelArgs, plan: ProvisionPlan, options: ProvisionOptions): Promise<{ version: string; known: Set<string> }> {
  const api = new TemplateApi(args.server!, { dispatcher: options.fetch?.dispatcher });
  const template = (await api.listTemplates()).find((t) => t.name === plan.template && t.arch === plan.arch);
  if (!template || template.versions.length === 0) {
    throw new TrowelError('ENOTEMPLATE', `Cannot provision ${plan.template} ${plan.arch}: the server has no such template`, { hint: `publish it on ${args.server}, or fix the plan` });
  }
  const known = new Set(template.versions.map((v) => v.version));
  const version = plan.version === 'latest' ? template.versions[0]!.version : plan.version;
  if (!known.has(version)) {
    throw new TrowelError('ENOTEMPLATE', `Cannot provision ${plan.template} ${plan.arch} ${version}: the server has no such version`, {
      hint: `it has ${template.versions.slice(0, 5).map((v) => v.version).join(', ')}`,
    });
  }
  return { version, known };
}

/** @private Versions of `name`/`arch` received into the pool, oldest first. */
async function versionsOnDisk(pool: string, name: string, arch: string): Promise<string[]> {
  const refs = (await readdir(pool)).map(parseSubvolumeName).filter((r): r is TemplateRef => r !== undefined && r.name === name && r.arch === arch);
  return refs.map((r) => r.version).sort();
}

/** @private The pool and ESP to use: the planned ones, or those of the earlier install for keep. */
function targetDevices(disk: Disk, partitions: PartitionPlan | undefined): { pool: string; esp: string | undefined } {
  if (partitions) return { pool: partitions.pool, esp: partitions.esp };
  const found = trowelPartitions(disk);
  if (!found) throw new TrowelError('ENOPOOL', `Cannot keep the partitions of ${disk.path}: it holds no trowel pool`);
  return { pool: found.pool.path, esp: found.esp?.path };
}
