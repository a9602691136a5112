import { beforeAll, describe, expect, it } from 'vitest';
import { applyMessage, connected, disconnected, initialState } from './model.ts';
import { counters, iso, machine, T0 } from './test-fixture.ts';
import { counterLines, dashboardView, eventLine, machineRow, printable, sortMachines, statusText, THROUGHPUT_WINDOW, throughputView } from './view.ts';

beforeAll(() => {
  // Event times are shown in local time; pin the zone so the expected strings hold anywhere.
  process.env.TZ = 'UTC';
});

const MiB = 2 ** 20;

describe('machineRow', () => {
  it('shows state, step, progress and a fresh rate', () => {
    const m = machine('52:54:00:00:00:01', { hostname: 'node1', state: 'provisioning:receive', step: 'receive', stepState: 'progress', progress: 0.426, rate: 12.5 * MiB, updatedAt: iso(T0) });
    expect(machineRow(m, T0 + 1000)).toEqual(['52:54:00:00:00:01', 'node1', 'provisioning', 'receive', '42%', '12.5 MiB/s']);
    expect(machineRow(m, T0 + 60_000)[5]).toBe('-');
  });

  it('falls back to the address, then a dash, and shows failures as failed', () => {
    expect(machineRow(machine('m', { ip: '10.0.0.9', state: 'failed:bootloader', step: 'bootloader' }), T0)).toEqual(['m', '10.0.0.9', 'failed', 'bootloader', '-', '-']);
    expect(machineRow(machine('m'), T0)).toEqual(['m', '-', 'new', '-', '-', '-']);
  });
});

describe('sortMachines', () => {
  it('puts provisioning first, then failures, planned, new, deployed; by MAC within each', () => {
    const sorted = sortMachines([
      machine('05', { state: 'deployed' }), machine('04', { state: 'new' }), machine('03', { state: 'failed:receive' }),
      machine('02', { state: 'provisioning:deploy' }), machine('01', { state: 'provisioning:receive' }), machine('00', { state: 'planned' }),
      machine('06', { state: 'something-else' }),
    ]);
    expect(sorted.map((m) => m.mac)).toEqual(['01', '02', '03', '00', '04', '05', '06']);
  });
});

describe('eventLine', () => {
  const machines = new Map([['52:54:00:00:00:01', machine('52:54:00:00:00:01', { hostname: 'node1' })]]);

  it('writes a progress event with bytes, percent and rate, naming the machine by hostname', () => {
    const line = eventLine({ id: 1, mac: '52:54:00:00:00:01', at: iso(T0), kind: 'step', step: 'receive', state: 'progress', bytes: 300 * MiB, totalBytes: 1200 * MiB, rate: 20 * MiB }, machines);
    expect(line).toBe('03:04:05 node1 receive progress 300.0 MiB 25% 20.0 MiB/s');
  });

  it('writes failures with their error and log lines as they came, by MAC when there is no hostname', () => {
    expect(eventLine({ id: 2, mac: '52:54:00:00:00:02', at: iso(T0), kind: 'step', step: 'receive', state: 'failed', error: 'digest mismatch' }, machines)).toBe(
      '03:04:05 52:54:00:00:00:02 receive failed error: digest mismatch',
    );
    expect(eventLine({ id: 3, mac: '52:54:00:00:00:01', at: iso(T0), kind: 'log', line: 'mkfs.btrfs done' }, machines)).toBe('03:04:05 node1 log mkfs.btrfs done');
  });

  it('never passes control characters from a machine to the terminal', () => {
    const line = eventLine({ id: 4, mac: 'm', at: iso(T0), kind: 'log', line: 'evil \x1b]0;owned\x07 \x9b2J\ttab' }, new Map());
    expect(line).toBe('03:04:05 m log evil ?]0;owned? ?2J?tab');
    expect(printable('node\r\n1')).toBe('node??1');
  });
});

describe('counterLines', () => {
  it('fits the counters in lines of at most 30 characters', () => {
    const lines = counterLines({ dhcp: { received: 1204, sent: 1190, dropped: 3 }, tftp: { transfers: 48, failed: 1, active: 2, bytes: 1.5 * MiB }, http: { requests: 9321, bytes: 3.25 * 2 ** 30 } });
    expect(lines).toEqual(['DHCP in 1204 out 1190 drop 3', 'TFTP 48 files 1 failed', '     2 now, 1.50 MiB sent', 'HTTP 9321 requests', '     3.25 GiB sent']);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(30);
    expect(counterLines(undefined)).toEqual(['waiting for the server']);
  });
});

describe('throughputView', () => {
  it('pads a short history on the left to the window, in MiB/s, never with an empty label', () => {
    let s = applyMessage(initialState('x'), { type: 'snapshot', at: iso(T0), machines: [], events: [], counters: counters(0) });
    s = applyMessage(s, { type: 'counters', at: iso(T0 + 1000), counters: counters(3 * MiB) });
    const t = throughputView(s);
    expect(t.x).toHaveLength(THROUGHPUT_WINDOW);
    expect(t.x.at(-1)).toBe('04:06');
    expect(t.x.every((label) => label.length > 0)).toBe(true);
    expect(t.served.at(-1)).toBe(3);
    expect(t.served.slice(0, -1).every((v) => v === 0)).toBe(true);
    expect(t.servedNow).toBe('3.00 MiB/s');
    expect(t.receivedNow).toBe('0 B/s');
  });
});

describe('statusText and dashboardView', () => {
  it('says whether the stream is live, and why it is not', () => {
    const s = initialState('http://10.0.0.1:8080');
    expect(statusText(s)).toBe('connecting to http://10.0.0.1:8080');
    expect(statusText(connected(s, T0))).toBe('live: http://10.0.0.1:8080');
    expect(statusText(disconnected(s, 3, 'ECONNREFUSED'))).toBe('reconnecting to http://10.0.0.1:8080 (try 3: ECONNREFUSED)');
  });

  it('puts it together with the help line from the key bindings', () => {
    const s = applyMessage(connected(initialState('http://s'), T0), {
      type: 'snapshot', at: iso(T0), machines: [machine('52:54:00:00:00:01', { hostname: 'node1' })], events: [], counters: counters(0),
    });
    const v = dashboardView(s, T0);
    expect(v.machineTitle).toBe(' machines (1) ');
    expect(v.machines.headers).toEqual(['MAC', 'HOST', 'STATE', 'STEP', 'PROG', 'RATE']);
    expect(v.machines.rows).toEqual([['52:54:00:00:00:01', 'node1', 'new', '-', '-', '-']]);
    expect(v.help).toBe('q quit  Up/Down scroll machines');
    expect(v.status).toBe('live: http://s');
  });
});
