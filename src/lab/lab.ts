/**
 * The lab (used by the e2e tests and `npm run demo`): one network namespace with a bridge (br0, 10.0.0.1/24) where
 * `trowel serve` runs from source, the test boot image in its HTTP root, the
 * iPXE binaries in its TFTP root (by the documented `setup-tftp` step), and a
 * tap per VM. close() removes everything, also after a half-done start.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBridge, createTap, Netns, uniqueName } from './netns.ts';
import { startVm, type Vm, type VmOptions } from './qemu.ts';
import { run } from '../sys/run.ts';
import { CLI, startServe, type ServeProcess } from './serve-process.ts';

export const SERVER_ADDRESS = '10.0.0.1';
export const SERVER_URL = `http://${SERVER_ADDRESS}:8080`;

export interface Lab {
  ns: Netns;
  dir: string;
  stateDir: string;
  serve: ServeProcess;
  /** Starts a VM on a fresh tap on br0; close() stops it if the test does not. */
  startVm(options: Omit<VmOptions, 'ns' | 'tap'>): Promise<Vm>;
  /** Runs curl inside the lab namespace (the only place 10.0.0.1 exists); returns stdout. */
  curl(args: string[]): Promise<string>;
  adminToken(): Promise<string>;
  close(): Promise<void>;
}

export interface LabOptions {
  /** The kernel and initramfs machines boot (served as /boot/files/vmlinuz and /boot/files/initramfs). */
  bootImage: { kernel: string; initrd: string };
  /** Receives every log record of `trowel serve` as it arrives (the demo prints progress from them). */
  onServeRecord?: (record: Record<string, unknown>) => void;
}

export async function startLab(options: LabOptions): Promise<Lab> {
  const dir = await mkdtemp(join(tmpdir(), 'trowel-e2e-'));
  const vms: Vm[] = [];
  let ns: Netns | undefined;
  let serve: ServeProcess | undefined;
  const close = async () => {
    await Promise.allSettled(vms.map((vm) => vm.stop()));
    await serve?.stop().catch(() => {});
    await ns?.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const image = options.bootImage;
    const http = join(dir, 'http');
    await mkdir(http);
    await copyFile(image.kernel, join(http, 'vmlinuz'));
    await copyFile(image.initrd, join(http, 'initramfs'));
    await run(process.execPath, [CLI, 'setup-tftp', '--root', join(dir, 'tftp')]);

    const stateDir = join(dir, 'state');
    const configFile = join(dir, 'trowel.yaml');
    await writeFile(configFile, [
      `listen: { interface: br0, address: ${SERVER_ADDRESS} }`,
      `dhcp: { mode: authoritative, range: 10.0.0.100-10.0.0.150, router: ${SERVER_ADDRESS} }`,
      `tftp: { root: ${join(dir, 'tftp')} }`,
      `http: { port: 8080, root: ${http} }`,
      'boot: { kernel: vmlinuz, initrd: initramfs, args: "console=ttyS0" }',
      `stateDir: ${stateDir}`,
      '',
    ].join('\n'));

    ns = await Netns.create();
    await createBridge(ns, 'br0', `${SERVER_ADDRESS}/24`);
    serve = await startServe(ns, configFile, { onRecord: options.onServeRecord });
    const labNs = ns;
    return {
      ns: labNs,
      dir,
      stateDir,
      serve,
      async startVm(options) {
        const tap = uniqueName('tap');
        await createTap(labNs, tap, 'br0');
        const vm = await startVm({ ...options, ns: labNs, tap });
        vms.push(vm);
        return vm;
      },
      async curl(args) {
        return (await labNs.exec('curl', ['-sS', '--max-time', '10', ...args])).stdout;
      },
      async adminToken() {
        return (await readFile(join(stateDir, 'admin.token'), 'utf8')).trim();
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
