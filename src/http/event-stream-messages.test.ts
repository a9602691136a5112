import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../metrics/registry.ts';
import type { Machine, StoredEvent } from '../store/index.ts';
import { machineStatus, readCounters, streamEvent } from './event-stream-messages.ts';

const machine: Machine = {
  mac: '52:54:00:00:00:01', arch: 7, uuid: null, hostname: 'node1', ip: '10.0.0.101', action: 'provision',
  state: 'provisioning:receive', token: 'secret-token', firstSeen: 1_000, lastSeen: 2_000, plan: null,
};

function step(data: Record<string, unknown>, at = 3_000): StoredEvent {
  return { id: 7, mac: machine.mac, at, kind: 'step', data };
}

describe('machineStatus', () => {
  it('shows progress and rate while a step runs, and never the token', () => {
    const s = machineStatus(machine, step({ step: 'receive', state: 'progress', bytes: 25, totalBytes: 100, rate: 5_000_000 }));
    expect(s).toEqual({
      mac: '52:54:00:00:00:01', hostname: 'node1', ip: '10.0.0.101', action: 'provision', state: 'provisioning:receive',
      lastSeen: '1970-01-01T00:00:02.000Z', step: 'receive', stepState: 'progress', bytes: 25, totalBytes: 100,
      progress: 0.25, rate: 5_000_000, updatedAt: '1970-01-01T00:00:03.000Z',
    });
    expect(JSON.stringify(s)).not.toContain('secret-token');
  });

  it('counts a done step as complete and drops its last rate', () => {
    const s = machineStatus(machine, step({ step: 'receive', state: 'done', bytes: 90, totalBytes: 100, rate: 1 }));
    expect(s).toMatchObject({ progress: 1, rate: null, stepState: 'done' });
  });

  it('has no progress without totals, and no step before any event', () => {
    expect(machineStatus(machine, step({ step: 'partition', state: 'started' }))).toMatchObject({ progress: null, rate: null, step: 'partition' });
    expect(machineStatus(machine, undefined)).toMatchObject({ step: null, stepState: null, progress: null, updatedAt: '1970-01-01T00:00:02.000Z' });
  });

  it('ignores fields of the wrong type (events are untrusted input stored as posted)', () => {
    expect(machineStatus(machine, step({ step: 3, state: 'progress', bytes: 'many', totalBytes: 10 }))).toMatchObject({ step: null, bytes: null, progress: null });
  });
});

describe('streamEvent', () => {
  it('puts the machine and an ISO time first and keeps the posted fields', () => {
    expect(streamEvent({ id: 3, mac: machine.mac, at: 0, kind: 'log', data: { line: 'hello' } })).toEqual({
      id: 3, mac: machine.mac, at: '1970-01-01T00:00:00.000Z', kind: 'log', line: 'hello',
    });
  });

  it('does not let posted fields overwrite id, mac or kind', () => {
    const e = streamEvent({ id: 3, mac: machine.mac, at: 0, kind: 'step', data: { mac: 'aa:aa:aa:aa:aa:aa', id: 99, kind: 'log' } });
    expect(e).toMatchObject({ id: 3, mac: machine.mac, kind: 'step' });
  });
});

describe('readCounters', () => {
  it('sums the DHCP, TFTP and HTTP metrics the servers register', () => {
    const m = new MetricsRegistry();
    const dhcp = m.counter('trowel_dhcp_packets_total', 'x');
    dhcp.inc({ direction: 'in', type: 'DISCOVER' }, 4);
    dhcp.inc({ direction: 'out', type: 'OFFER' }, 3);
    m.counter('trowel_dhcp_dropped_total', 'x').inc({ reason: 'malformed' });
    const tftp = m.counter('trowel_tftp_transfers_total', 'x');
    tftp.inc({ result: 'ok' }, 5);
    tftp.inc({ result: 'timeout' });
    tftp.inc({ result: 'refused' });
    m.counter('trowel_tftp_bytes_total', 'x').inc({}, 1234);
    m.gauge('trowel_tftp_active_transfers', 'x').add(2);
    m.counter('trowel_http_requests_total', 'x').inc({ route: '/boot/ipxe', status: '200' }, 9);
    m.counter('trowel_http_response_bytes_total', 'x').inc({ route: '/boot/ipxe' }, 4096);
    expect(readCounters(m)).toEqual({
      dhcp: { received: 4, sent: 3, dropped: 1 },
      tftp: { transfers: 7, failed: 2, active: 2, bytes: 1234 },
      http: { requests: 9, bytes: 4096 },
    });
  });

  it('is all zeros for a server with nothing running', () => {
    expect(readCounters(new MetricsRegistry())).toEqual({
      dhcp: { received: 0, sent: 0, dropped: 0 }, tftp: { transfers: 0, failed: 0, active: 0, bytes: 0 }, http: { requests: 0, bytes: 0 },
    });
  });
});
