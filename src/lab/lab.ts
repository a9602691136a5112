/**
 * The lab: a network namespace with a bridge (br0, 10.0.0.1/24) where
 * `trowel serve` runs with authoritative DHCP, a TFTP root filled by
 * `setup-tftp`, a boot image in its HTTP root, optionally a btrfs template
 * pool on a loop device with a signing key, and QEMU VMs on taps.
 *
 * Everything lives in one folder, and `lab.json` there records what runs
 * (namespace, server pid, loop device, VM pids), so the lab can be driven by
 * separate commands (`trowel lab up|boot|status|down`) as well as by one
 * test or the demo in-process. `close()` removes all of it, also after a
 * half-done start.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TrowelError } from '../errors.ts';
import { initKeys, keyPaths } from '../stream/index.ts';
import { run } from '../sys/run.ts';
import { setupTftpRoot } from '../cli/setup-tftp.ts';
import { createBridge, createTap, Netns, uniqueName } from './netns.ts';
import { startVm, type Vm, type VmOptions } from './qemu.ts';
import { followServe, startServe, type LogRecord, type ServeProcess } from './serve-process.ts';

export const SERVER_ADDRESS = '10.0.0.1';
export const SERVER_URL = `http://${SERVER_ADDRESS}:8080`;
const STATE_FILE = 'lab.json';
/**
 * Serial console, and a long NVMe command timeout: a TCG guest on a busy
 * 2-core host can stall past the kernel's 30 s default, which it would
 * report as an I/O error in the middle of a receive. no_timer_check: on
 * such a host the kernel's early check that the timer interrupt ticks can
 * miss it and panic ("IO-APIC + timer doesn't work!"); seen in the e2e.
 */
export const DEFAULT_BOOT_ARGS = 'console=ttyS0 nvme_core.io_timeout=600 no_timer_check';

export interface LabOptions {
  /** The lab's folder (created; must not hold another running lab). */
  dir: string;
  /** The kernel and initramfs machines boot (served as /boot/files/vmlinuz and /boot/files/initramfs). */
  bootImage: { kernel: string; initrd: string };
  /** Kernel arguments appended to trowel's own (default DEFAULT_BOOT_ARGS). */
  bootArgs?: string;
  /** Size of the btrfs template pool on a loop device; 0 or absent: no pool. */
  poolSizeMiB?: number;
  /** Receives every log record of `trowel serve` as it arrives (the demo prints progress from them). */
  onServeRecord?: (record: LogRecord) => void;
  /** Leave the server running when this process exits (`trowel lab up`). */
  detached?: boolean;
  /** More trowel.yaml sections, e.g. `mcast: { enabled: true }` (YAML lines appended to the lab's config). */
  extraConfig?: string;
}

/** What lab.json records. */
interface LabState {
  ns: string;
  servePid: number | undefined;
  pool?: { image: string; device: string; mountpoint: string };
  vms: { mac: string; pid: number | undefined; serialLog: string }[];
}

export interface Lab {
  ns: Netns;
  dir: string;
  stateDir: string;
  /** The pool's mount point, when the lab has one. */
  poolDir: string | undefined;
  serve: ServeProcess;
  /** Starts a VM on a fresh tap on br0, its files kept in <dir>/vms; close() stops it if the caller does not. */
  startVm(options: Omit<VmOptions, 'ns' | 'tap' | 'workDir'>): Promise<Vm>;
  /** Runs curl inside the lab namespace (the only place 10.0.0.1 exists); returns stdout. */
  curl(args: string[]): Promise<string>;
  /** Calls the lab server's API with the admin token; returns the parsed JSON. */
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  adminToken(): Promise<string>;
  /** Stops every VM and the server, removes the namespace, the pool and the folder. */
  close(): Promise<void>;
}

export async function startLab(options: LabOptions): Promise<Lab> {
  const dir = resolve(options.dir);
  if (existsSync(join(dir, STATE_FILE))) {
    throw new TrowelError('ELABEXISTS', `Cannot start a lab in ${dir}: one is already there`, { hint: 'trowel lab down first' });
  }
  await mkdir(join(dir, 'http'), { recursive: true });
  const state: LabState = { ns: uniqueName('lab'), servePid: undefined, vms: [] };
  const ns = await Netns.create(state.ns);
  await saveState(dir, state);
  const partial = labHandle(dir, ns, state, undefined);
  try {
    await copyFile(options.bootImage.kernel, join(dir, 'http/vmlinuz'));
    await copyFile(options.bootImage.initrd, join(dir, 'http/initramfs'));
    setupTftpRoot(join(dir, 'tftp'));
    const stateDir = join(dir, 'state');
    await mkdir(stateDir, { recursive: true });
    if (options.poolSizeMiB) {
      state.pool = await createPool(dir, options.poolSizeMiB);
      await saveState(dir, state);
      if (!existsSync(keyPaths(stateDir).privateKeyPath)) await initKeys(stateDir);
    }
    const configFile = join(dir, 'trowel.yaml');
    await writeFile(configFile, labConfig(dir, options.bootArgs ?? DEFAULT_BOOT_ARGS) + (options.extraConfig ? `${options.extraConfig.trimEnd()}\n` : ''));
    await createBridge(ns, 'br0', `${SERVER_ADDRESS}/24`);
    const serve = await startServe(ns, configFile, { logFile: join(dir, 'serve.log'), onRecord: options.onServeRecord, detached: options.detached });
    state.servePid = serve.pid;
    await saveState(dir, state);
    return labHandle(dir, ns, state, serve);
  } catch (e) {
    await partial.close();
    throw e;
  }
}

/** Opens the lab another command started in `dir`. */
export async function openLab(dir: string, onServeRecord?: (r: LogRecord) => void): Promise<Lab> {
  const abs = resolve(dir);
  let state: LabState;
  try {
    state = JSON.parse(await readFile(join(abs, STATE_FILE), 'utf8')) as LabState;
  } catch {
    throw new TrowelError('ENOLAB', `Cannot open the lab in ${abs}: no lab is running there`, { hint: 'trowel lab up' });
  }
  return labHandle(abs, Netns.open(state.ns), state, followServe(state.servePid, join(abs, 'serve.log'), onServeRecord));
}

function labConfig(dir: string, bootArgs: string): string {
  return [
    `listen: { interface: br0, address: ${SERVER_ADDRESS} }`,
    `dhcp: { mode: authoritative, range: 10.0.0.100-10.0.0.199, router: ${SERVER_ADDRESS}, leaseTime: 1h }`,
    `tftp: { root: ${JSON.stringify(join(dir, 'tftp'))} }`,
    `http: { port: 8080, root: ${JSON.stringify(join(dir, 'http'))} }`,
    `boot: { kernel: vmlinuz, initrd: initramfs, args: ${JSON.stringify(bootArgs)} }`,
    `stateDir: ${JSON.stringify(join(dir, 'state'))}`,
    '',
  ].join('\n');
}

/** A btrfs filesystem on a loop device mounted as the server's pool. */
async function createPool(dir: string, sizeMiB: number): Promise<NonNullable<LabState['pool']>> {
  const image = join(dir, 'pool.img');
  const mountpoint = join(dir, 'state/pool');
  await run('truncate', ['-s', `${sizeMiB}M`, image]);
  await run('mkfs.btrfs', ['-q', '-L', 'trowel-lab-pool', image]);
  const device = (await run('losetup', ['--find', '--show', image])).stdout.trim();
  await mkdir(mountpoint, { recursive: true });
  await run('mount', [device, mountpoint]);
  return { image, device, mountpoint };
}

async function saveState(dir: string, state: LabState): Promise<void> {
  await writeFile(join(dir, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
}

function labHandle(dir: string, ns: Netns, state: LabState, serve: ServeProcess | undefined): Lab {
  const stateDir = join(dir, 'state');
  const vms: Vm[] = [];
  const adminToken = async () => (await readFile(join(stateDir, 'admin.token'), 'utf8')).trim();
  const curl = async (args: string[]) => (await ns.exec('curl', ['-sS', '--max-time', '30', ...args])).stdout;
  let closed: Promise<void> | undefined;
  return {
    ns,
    dir,
    stateDir,
    poolDir: state.pool?.mountpoint,
    serve: serve!,
    async startVm(options) {
      const tap = uniqueName('tap');
      await createTap(ns, tap, 'br0');
      const vm = await startVm({ ...options, ns, tap, workDir: join(dir, 'vms') });
      vms.push(vm);
      state.vms.push({ mac: vm.mac, pid: vm.pid, serialLog: vm.serialLog });
      await saveState(dir, state);
      return vm;
    },
    curl,
    async api(method, path, body) {
      const args = ['-f', '-X', method, '-H', `authorization: Bearer ${await adminToken()}`, '-H', 'content-type: application/json'];
      if (body !== undefined) args.push('--data-binary', JSON.stringify(body));
      return JSON.parse(await curl([...args, `${SERVER_URL}${path}`])) as unknown;
    },
    adminToken,
    close() {
      closed ??= (async () => {
        await Promise.allSettled(vms.map((vm) => vm.stop()));
        for (const vm of state.vms) killQuietly(vm.pid);
        await serve?.stop().catch(() => {});
        killQuietly(state.servePid);
        await ns.destroy();
        if (state.pool) {
          await run('umount', [state.pool.mountpoint]).catch(() => run('umount', ['-l', state.pool!.mountpoint]).catch(() => {}));
          await run('losetup', ['-d', state.pool.device]).catch(() => {});
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

function killQuietly(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
