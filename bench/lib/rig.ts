/**
 * The benchmark rig: server namespaces and one client namespace joined by
 * veth pairs (MTU 1500) with private 10.x addresses. Clients and load
 * generators run in the client namespace, so every packet crosses a veth as
 * it would a wire.
 *
 * `createRig` makes one server namespace (servers take turns in it: DHCP,
 * where two servers on one client would answer each other's broadcasts).
 * `createStar` gives each server a namespace and a link of its own, so all
 * of them run at once and one setting is measured on every server within
 * seconds (TFTP): a burst of other work on a shared machine then hits all
 * of them alike instead of one server's whole block of runs.
 */
import { connect, Netns, uniqueName } from '../../src/lab/netns.ts';
import { onCleanup } from './cleanup.ts';

/** One server's view of the rig. */
export interface Rig {
  server: Netns;
  client: Netns;
  /** The server's address (no prefix length). */
  serverAddress: string;
  clientAddress: string;
  /** The veth's name in the server namespace. */
  interfaceName: string;
}

export interface RigOptions {
  /** Server address with prefix length, e.g. "10.78.0.1/24". */
  serverCidr: string;
  clientCidr: string;
  mtu?: number;
  /**
   * Give the client namespace a default route over the veth. A socket bound
   * to 0.0.0.0 (a DHCP client) can send to 255.255.255.255 only with a route
   * to pick the interface; without one Linux answers ENETUNREACH.
   */
  clientDefaultRoute?: boolean;
}

export async function createRig(options: RigOptions): Promise<Rig & { destroy(): Promise<void> }> {
  const client = await newNamespace('bc');
  const server = await newNamespace('bs');
  await connect(server.ns, 'eth0', options.serverCidr, client.ns, 'eth0', options.clientCidr, options.mtu ?? 1500);
  if (options.clientDefaultRoute) await client.ns.ip('route', 'add', 'default', 'dev', 'eth0');
  return {
    server: server.ns,
    client: client.ns,
    serverAddress: address(options.serverCidr),
    clientAddress: address(options.clientCidr),
    interfaceName: 'eth0',
    destroy: async () => {
      await server.destroy();
      await client.destroy();
    },
  };
}

/**
 * One client namespace and `count` server namespaces, server i on its own
 * link `10.<net>.<i>.0/24` (server .1, client .2; the client's end is `s<i>`).
 */
export async function createStar(net: number, count: number, mtu = 1500): Promise<{ rigs: Rig[]; client: Netns; destroy(): Promise<void> }> {
  const client = await newNamespace('bc');
  const servers: { ns: Netns; destroy: () => Promise<void> }[] = [];
  const rigs: Rig[] = [];
  for (let i = 0; i < count; i++) {
    const server = await newNamespace('bs');
    servers.push(server);
    const serverCidr = `10.${net}.${i}.1/24`;
    const clientCidr = `10.${net}.${i}.2/24`;
    await connect(server.ns, 'eth0', serverCidr, client.ns, `s${i}`, clientCidr, mtu);
    rigs.push({ server: server.ns, client: client.ns, serverAddress: address(serverCidr), clientAddress: address(clientCidr), interfaceName: 'eth0' });
  }
  return {
    rigs,
    client: client.ns,
    destroy: async () => {
      for (const s of servers) await s.destroy();
      await client.destroy();
    },
  };
}

/** Names carry a bench-only role so they never collide with test namespaces run in parallel. */
async function newNamespace(role: string): Promise<{ ns: Netns; destroy: () => Promise<void> }> {
  const ns = await Netns.create(uniqueName(role));
  return { ns, destroy: onCleanup(() => ns.destroy()) };
}

function address(cidr: string): string {
  return cidr.split('/')[0]!;
}
