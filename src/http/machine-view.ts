/**
 * What the read-only API shows about a machine. The listing is open to the
 * whole boot network, so the per-machine token (its API credential) is
 * never part of it: this picks fields explicitly rather than deleting one,
 * so a column added to the store later does not leak by default.
 */
import type { Machine } from '../store/machines.ts';

export interface MachineView {
  mac: string;
  hostname: string | null;
  ip: string | null;
  arch: number | null;
  uuid: string | null;
  action: string;
  state: string;
  firstSeen: string;
  lastSeen: string;
}

export function machineView(m: Machine): MachineView {
  return {
    mac: m.mac,
    hostname: m.hostname,
    ip: m.ip,
    arch: m.arch,
    uuid: m.uuid,
    action: m.action,
    state: m.state,
    firstSeen: new Date(m.firstSeen).toISOString(),
    lastSeen: new Date(m.lastSeen).toISOString(),
  };
}
