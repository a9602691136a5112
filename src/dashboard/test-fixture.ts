/** Test helper (not part of the product): stream payloads with defaults. */
import type { Counters, MachineStatus } from '../http/event-stream-messages.ts';

export const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

export const iso = (ms: number): string => new Date(ms).toISOString();

export function counters(httpBytes: number, tftpBytes = 0): Counters {
  return { dhcp: { received: 0, sent: 0, dropped: 0 }, tftp: { transfers: 0, failed: 0, active: 0, bytes: tftpBytes }, http: { requests: 0, bytes: httpBytes } };
}

export function machine(mac: string, fields: Partial<MachineStatus> = {}): MachineStatus {
  return {
    mac, hostname: null, ip: null, action: 'discover', state: 'new', lastSeen: iso(T0), step: null, stepState: null,
    bytes: null, totalBytes: null, progress: null, rate: null, updatedAt: iso(T0), ...fields,
  };
}
