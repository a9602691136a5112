/**
 * Refuses to start when `listen.address` is not one of this host's
 * addresses (or not on `listen.interface`): every URL and DHCP reply would
 * point machines at a server that isn't there, and the failure would only
 * show up as a firmware timeout on a console somewhere.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { TrowelError } from '../errors.ts';

export function checkListenAddress(
  listen: { interface?: string; address: string },
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): void {
  const owners = Object.entries(interfaces)
    .filter(([, infos]) => infos?.some((i) => i.family === 'IPv4' && i.address === listen.address))
    .map(([name]) => name);
  if (owners.length === 0) {
    const known = Object.entries(interfaces)
      .flatMap(([name, infos]) => (infos ?? []).filter((i) => i.family === 'IPv4').map((i) => `${name} ${i.address}`))
      .join(', ');
    throw new TrowelError('ENOADDR', `Cannot serve on ${listen.address}: no interface of this host has that address`, {
      hint: `set listen.address to one of: ${known || 'none (no IPv4 address configured)'}`,
    });
  }
  if (listen.interface && !owners.includes(listen.interface)) {
    throw new TrowelError('ENOADDR', `Cannot serve on ${listen.interface}: ${listen.address} is on ${owners.join(', ')}, not on ${listen.interface}`);
  }
}
