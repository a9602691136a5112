/**
 * The multicast benchmark's rig: a "switch" namespace holding a Linux bridge,
 * one sender namespace and up to N receiver namespaces, each joined to the
 * bridge by a veth pair, as machines on one switch would be. The sender's
 * egress is shaped with `tc tbf` to a line rate (1 Gbit/s), so every tool
 * meets the same wire whatever rate it asks for.
 *
 * Receivers a run does not use have their bridge port down: the bridge
 * floods multicast to every port that is up, and an idle namespace would
 * still cost softirq time for packets nobody reads, on a 2-core machine
 * where that time is taken from the tools being measured.
 */
import { connect, createBridge, Netns, uniqueName } from '../../src/lab/netns.ts';
import { onCleanup } from './cleanup.ts';

export interface McastHost {
  ns: Netns;
  /** The host's interface (eth0) and its address (no prefix length). */
  interfaceName: string;
  address: string;
}

export interface McastRig {
  sender: McastHost;
  receivers: McastHost[];
  mtu: number;
  /** Brings up the bridge ports of the first `count` receivers and takes the others down. */
  useReceivers(count: number): Promise<void>;
  destroy(): Promise<void>;
}

export interface McastRigOptions {
  /** Second octet of the rig's 10.x.0.0/24 network. */
  net: number;
  receivers: number;
  mtu: number;
  /** tbf rate on the sender's egress, e.g. "1gbit". */
  shapeRate: string;
}

const BRIDGE = 'br0';

export async function createMcastRig(options: McastRigOptions): Promise<McastRig> {
  const { net, mtu } = options;
  // Teardown steps, one per namespace, run newest first by destroy() (and by cleanupAll on any exit).
  const teardown: (() => Promise<void>)[] = [];
  const newNamespace = async (role: string): Promise<{ ns: Netns }> => {
    const ns = await Netns.create(uniqueName(role));
    teardown.push(onCleanup(() => ns.destroy()));
    return { ns };
  };
  const sw = await newNamespace('bmw');
  await createBridge(sw.ns, BRIDGE, undefined);
  // No IGMP snooping: without a querier on the segment Linux floods multicast
  // anyway, and a querier appearing mid-run would change forwarding between runs.
  await sw.ns.ip('link', 'set', BRIDGE, 'type', 'bridge', 'mcast_snooping', '0');
  const hosts: McastHost[] = [];
  const count = options.receivers + 1;
  for (let i = 0; i < count; i++) {
    const host = await newNamespace(i === 0 ? 'bms' : 'bmr');
    const address = `10.${net}.0.${i + 1}`;
    await connect(host.ns, 'eth0', undefined, sw.ns, `p${i}`, undefined, mtu);
    // With its broadcast address (`brd +`): udpcast finds its peers by broadcast on the interface's
    // broadcast address and falls back to 224.0.0.1 when the interface has none.
    await host.ns.ip('addr', 'add', `${address}/24`, 'brd', '+', 'dev', 'eth0');
    await sw.ns.ip('link', 'set', `p${i}`, 'master', BRIDGE);
    // Multicast needs a route to pick the interface for groups (and udpcast's broadcast rendez-vous).
    await host.ns.ip('route', 'add', '224.0.0.0/4', 'dev', 'eth0');
    hosts.push({ ns: host.ns, interfaceName: 'eth0', address });
  }
  await sw.ns.ip('link', 'set', BRIDGE, 'mtu', String(mtu));
  const sender = hosts[0]!;
  await shape(sender.ns, options.shapeRate, mtu);
  return {
    sender,
    receivers: hosts.slice(1),
    mtu,
    useReceivers: async (n) => {
      for (let i = 1; i < count; i++) await sw.ns.ip('link', 'set', `p${i}`, i <= n ? 'up' : 'down');
    },
    destroy: async () => {
      // Receivers, then the sender, then the switch.
      for (const step of teardown.splice(0).reverse()) await step();
    },
  };
}

/**
 * A token bucket at `rate` on the sender's eth0. The bucket holds a few
 * packets of the link's MTU (a 1 Gbit/s NIC sends back to back, it has no
 * bigger burst), and the queue absorbs 20 ms: a UDP sender that outruns the
 * rate is held back by its socket buffer filling, as on a real NIC queue.
 */
async function shape(ns: Netns, rate: string, mtu: number): Promise<void> {
  const burst = Math.max(64 * 1024, 8 * (mtu + 14));
  await ns.exec('tc', ['qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', rate, 'burst', String(burst), 'latency', '20ms']);
}
