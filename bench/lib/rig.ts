/**
 * The benchmark rig: a server namespace and a client namespace joined by
 * one veth pair (MTU 1500) with private 10.x addresses. Each peer server
 * runs in turn in the server namespace; clients and load generators run in
 * the client namespace, so every packet crosses the veth as it would a wire.
 */
import { connect, Netns, uniqueName } from '../../src/lab/netns.ts';
import { onCleanup } from './cleanup.ts';

export interface Rig {
  server: Netns;
  client: Netns;
  /** The server's address (no prefix length). */
  serverAddress: string;
  clientAddress: string;
  /** Interface name on both ends of the veth. */
  interfaceName: string;
  destroy(): Promise<void>;
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

export async function createRig(options: RigOptions): Promise<Rig> {
  // Names carry a bench-only role so they never collide with test namespaces run in parallel.
  const server = await Netns.create(uniqueName('bs'));
  const destroyServer = onCleanup(() => server.destroy());
  const client = await Netns.create(uniqueName('bc'));
  const destroyClient = onCleanup(() => client.destroy());
  const interfaceName = 'eth0';
  await connect(server, interfaceName, options.serverCidr, client, interfaceName, options.clientCidr, options.mtu ?? 1500);
  if (options.clientDefaultRoute) await client.ip('route', 'add', 'default', 'dev', interfaceName);
  return {
    server,
    client,
    serverAddress: options.serverCidr.split('/')[0]!,
    clientAddress: options.clientCidr.split('/')[0]!,
    interfaceName,
    destroy: async () => {
      await destroyClient();
      await destroyServer();
    },
  };
}
