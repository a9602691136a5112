/**
 * Network namespaces, veth pairs, bridges and taps for the lab and the
 * integration tests. Every name carries a prefix so `cleanupLab()` can find
 * leftovers of a crashed run; everything created is torn down by `destroy()`.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { run, type RunOptions, type RunResult } from '../sys/run.ts';

export const LAB_PREFIX = 'trw';

let counter = 0;
/** A short unique name (interface names are limited to 15 bytes). */
export function uniqueName(role: string): string {
  counter += 1;
  return `${LAB_PREFIX}${role}${process.pid % 10000}${counter}`.slice(0, 15);
}

export class Netns {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** A namespace that already exists (made by an earlier `trowel lab up`). */
  static open(name: string): Netns {
    return new Netns(name);
  }

  static async create(name = uniqueName('n')): Promise<Netns> {
    await run('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    await ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /** Runs a command inside the namespace and waits for it. */
  exec(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  ip(...args: string[]): Promise<RunResult> {
    return this.exec('ip', args);
  }

  /** Starts a long-running process inside the namespace. */
  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, command, ...args], { stdio: 'pipe', ...options });
  }

  async destroy(): Promise<void> {
    // Kill whatever still runs inside (servers, QEMU) before removing the namespace.
    await run('ip', ['netns', 'pids', this.name], { okCodes: [0, 1] })
      .then(({ stdout }) => stdout.split('\n').filter(Boolean).forEach((pid) => {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }))
      .catch(() => {});
    await run('ip', ['netns', 'del', this.name], { okCodes: [0, 1] });
  }
}

/**
 * Connects two namespaces with a veth pair and gives each end an address
 * (CIDR form, e.g. "10.77.0.1/24"; omit for an unnumbered end such as a DHCP client).
 */
export async function connect(
  a: Netns, aIf: string, aAddr: string | undefined,
  b: Netns, bIf: string, bAddr: string | undefined,
  mtu = 1500,
): Promise<void> {
  const tmpA = uniqueName('va');
  const tmpB = uniqueName('vb');
  await run('ip', ['link', 'add', tmpA, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', tmpB, 'mtu', String(mtu)]);
  await run('ip', ['link', 'set', tmpA, 'netns', a.name, 'name', aIf]);
  await run('ip', ['link', 'set', tmpB, 'netns', b.name, 'name', bIf]);
  for (const [ns, ifName, addr] of [[a, aIf, aAddr], [b, bIf, bAddr]] as const) {
    if (addr) await ns.ip('addr', 'add', addr, 'dev', ifName);
    await ns.ip('link', 'set', ifName, 'up');
  }
}

/** Creates a bridge inside `ns` with an address, e.g. "10.0.0.1/24". */
export async function createBridge(ns: Netns, name: string, address: string | undefined): Promise<void> {
  await ns.ip('link', 'add', name, 'type', 'bridge');
  if (address) await ns.ip('addr', 'add', address, 'dev', name);
  await ns.ip('link', 'set', name, 'up');
}

/** Creates a tap inside `ns` enslaved to `bridge`, for a QEMU VM started in the same namespace. */
export async function createTap(ns: Netns, name: string, bridge: string): Promise<void> {
  await ns.ip('tuntap', 'add', 'dev', name, 'mode', 'tap');
  await ns.ip('link', 'set', name, 'master', bridge);
  await ns.ip('link', 'set', name, 'up');
}

/**
 * Drops N% of packets arriving in `ns` (this kernel has no netem; nftables
 * numgen does it). The chain sits in prerouting before defragmentation
 * (priority -500, below conntrack's -400): each IP fragment is dropped on
 * its own, so a lost fragment loses its whole datagram, as on a real wire.
 */
export const DROP_PRIORITY = -500;
export async function dropIncoming(ns: Netns, percent: number): Promise<void> {
  if (!(percent > 0 && percent <= 100)) throw new RangeError(`Cannot drop ${percent}% of packets: give 1 to 100`);
  const match = percent >= 100 ? '' : `numgen random mod 100 < ${Math.round(percent)} `;
  const rules = `table inet trowel_loss {\n chain loss {\n  type filter hook prerouting priority ${DROP_PRIORITY}; policy accept;\n  ${match}drop\n }\n}\n`;
  await ns.exec('nft', ['-f', '-'], { input: rules });
}

/** Removes namespaces left by a crashed run of this lab (names starting with the prefix). */
export async function cleanupLab(): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list']);
  for (const line of stdout.split('\n')) {
    const name = line.split(' ')[0];
    if (name?.startsWith(LAB_PREFIX)) await Netns.prototype.destroy.call({ name } as Netns);
  }
}
