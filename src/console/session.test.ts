import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import type { Intent } from './flow.ts';
import { ConsoleSession } from './session.ts';
import { fakeServices } from './test-fixtures.ts';

const SERVER = 'http://10.0.0.1:8080';

async function started(services = fakeServices()): Promise<{ session: ConsoleSession; services: ReturnType<typeof fakeServices> }> {
  const session = new ConsoleSession({ server: SERVER, source: 'kernel', canReport: true }, services);
  session.start();
  await session.idle();
  return { session, services };
}

/** Dispatches intents one by one, letting effects finish in between. */
async function drive(session: ConsoleSession, ...intents: Intent[]): Promise<void> {
  for (const i of intents) {
    session.dispatch(i);
    await session.idle();
  }
}

const down: Intent = { kind: 'move', by: 1 };
const enter: Intent = { kind: 'choose' };
const esc: Intent = { kind: 'back' };
const type = (text: string): Intent[] => [...text].map((ch) => ({ kind: 'char', ch }));

describe('ConsoleSession', () => {
  it('checks a known server first and lands on the main menu', async () => {
    const { session, services } = await started();
    expect(services.calls).toEqual([`connect ${SERVER}`]);
    expect(session.state.screen).toBe('menu');
    expect(session.state.notice).toEqual({ text: `Connected to ${SERVER}: 2 templates`, tone: 'info' });
  });

  it('stays on the server screen with the one-line error when the server cannot be reached, and takes a typed URL', async () => {
    const services = fakeServices({
      connect: async (url) => {
        if (url === SERVER) throw new TrowelError('EUNREACHABLE', `Cannot reach server ${SERVER}: ECONNREFUSED`);
        return [];
      },
    });
    const { session } = await started(services);
    expect(session.state.screen).toBe('server');
    expect(session.state.notice).toEqual({ text: `Cannot reach server ${SERVER}: ECONNREFUSED`, tone: 'error' });
    await drive(session, ...Array.from({ length: SERVER.length }, (): Intent => ({ kind: 'erase' })), ...type('http://10.0.0.2:8080/'), enter);
    expect(session.state.screen).toBe('menu');
    expect(session.state.server).toMatchObject({ url: 'http://10.0.0.2:8080', source: 'typed', connected: true });
  });

  it('erases a whole disk only after its name is typed: a wrong name starts nothing', async () => {
    const { session, services } = await started();
    await drive(session, enter); // Provision -> disks
    expect(session.state.disks.map((d) => d.name)).toEqual(['vda', 'vdb', 'vdc']);
    await drive(session, down, enter); // vdb (Windows + free space)
    expect(session.state.screen).toBe('layout');
    await drive(session, enter, enter, enter, enter, enter); // whole disk, Desktop, newest version, http, host name
    expect(session.state.screen).toBe('confirm');
    expect(session.state.planned?.hostname).toBe('trowel-525400123456');
    await drive(session, ...type('vda'), enter);
    expect(session.state.notice).toEqual({ text: '"vda" is not vdb: nothing was written (Esc goes back)', tone: 'error' });
    expect(session.state.typed).toBe('');
    expect(services.calls.some((c) => c.startsWith('provision'))).toBe(false);
    await drive(session, enter);
    expect(session.state.notice?.text).toBe('Nothing was typed: nothing was written (Esc goes back)');

    await drive(session, ...type('vdb'), enter);
    const provision = services.calls.find((c) => c.startsWith('provision'))!;
    expect(JSON.parse(provision.slice('provision '.length))).toEqual({
      server: SERVER, disk: '/dev/vdb', layout: 'auto', wipe: true, template: 'org.example.Desktop', arch: 'x86_64', version: '20260102T000000Z', transport: 'http',
      hostname: 'trowel-525400123456',
    });
    expect(session.state.screen).toBe('done');
    expect(session.state.deployed).toBe('@root:org.example.Desktop:x86_64:20260102T000000Z on /dev/vdb');
    expect(session.state.progress.finished).toBe(true);
  });

  it('uses free space without a typed name, and never with wipe', async () => {
    const { session, services } = await started();
    await drive(session, enter, down, enter, down, down); // vdb, free space
    expect(session.state.cursors.layout).toBe(2);
    await drive(session, enter, enter, enter, enter, enter);
    expect(session.state.screen).toBe('confirm');
    await drive(session, ...type('x'));
    expect(session.state.typed).toBe('');
    await drive(session, enter);
    expect(JSON.parse(services.calls.find((c) => c.startsWith('provision'))!.slice(10))).toMatchObject({ layout: 'free', wipe: false });
  });

  it('offers keep first on a disk with a trowel pool and loads the package changes against the version there', async () => {
    const { session, services } = await started();
    await drive(session, enter, down, down, enter); // vdc
    expect(services.calls).toContain('readPool /dev/vdc');
    expect(session.state.screen).toBe('layout');
    expect(session.state.cursors.layout).toBe(1);
    expect(session.state.onDisk.map((r) => `${r.name} ${r.version}`)).toEqual(['org.example.Desktop 20260101T000000Z']);
    await drive(session, enter);
    expect(session.state.cursors.template).toBe(0);
    await drive(session, enter);
    expect(services.calls).toContain('diff 20260102T000000Z 20260101T000000Z');
    expect(session.state.diffs['20260102T000000Z']).toMatchObject({ status: 'ok' });
    expect(session.state.diffs['20260101T000000Z']).toBeUndefined();
  });

  it('takes a host name, refusing one the deployed system could not use', async () => {
    const { session, services } = await started();
    await drive(session, enter, down, enter, down, down, enter, enter, enter, enter);
    expect(session.state.screen).toBe('hostname');
    expect(session.state.hostnameInput).toBe('trowel-525400123456');
    await drive(session, ...Array.from({ length: 19 }, (): Intent => ({ kind: 'erase' })), ...type('web_01'), enter);
    expect(session.state.notice?.text).toBe('Cannot use host name "web_01": it must be letters, digits and "-" in dot-separated labels of at most 63');
    await drive(session, { kind: 'erase' }, { kind: 'erase' }, { kind: 'erase' }, ...type('-01'), enter, enter);
    expect(JSON.parse(services.calls.find((c) => c.startsWith('provision'))!.slice(10))).toMatchObject({ hostname: 'web-01', layout: 'free' });
  });

  it('shows a failure in plain words with Retry, which runs the same choices again', async () => {
    let attempts = 0;
    const services = fakeServices({
      provision: async (choices, onEvent) => {
        attempts += 1;
        onEvent({ step: 'partition', state: 'started' });
        if (attempts === 1) {
          onEvent({ step: 'partition', state: 'failed', error: 'Cannot run sfdisk: exit status 1' });
          throw new TrowelError('ECOMMAND', 'Cannot run sfdisk: exit status 1');
        }
        onEvent({ step: 'complete', state: 'done' });
        return { rootSubvolume: '@root:x', disk: choices.disk! };
      },
    });
    const { session } = await started(services);
    await drive(session, enter, enter, enter, enter, enter, enter, enter, ...type('vda'), enter);
    expect(session.state.screen).toBe('failed');
    expect(session.state.failure).toBe('Cannot run sfdisk: exit status 1');
    expect(session.state.progress.steps.partition.status).toBe('failed');
    await drive(session, { kind: 'action', name: 'retry' });
    expect(attempts).toBe(2);
    expect(session.state.screen).toBe('done');
  });

  it('ignores keys while an effect runs', async () => {
    let release: () => void = () => {};
    const services = fakeServices({
      discoverDisks: () => new Promise((resolve) => {
        release = () => resolve([]);
      }),
    });
    const { session } = await started(services);
    session.dispatch(enter);
    expect(session.state.busy).toBe('Looking for disks');
    session.dispatch(esc);
    expect(session.state.screen).toBe('disks');
    release();
    await session.idle();
    expect(session.state.busy).toBeUndefined();
    expect(session.state.notice?.text).toMatch(/^No disks found/);
  });

  it('sends the hardware inventory to the connected server, or says why it cannot', async () => {
    const { session, services } = await started();
    await drive(session, down, enter);
    expect(session.state.hardware?.cpu.model).toBe('CPU');
    await drive(session, { kind: 'action', name: 'send' });
    expect(services.calls).toContain(`send ${SERVER}`);
    expect(session.state.notice).toEqual({ text: `Inventory sent to ${SERVER}`, tone: 'info' });

    const anonymous = new ConsoleSession({ server: SERVER, source: 'kernel', canReport: false }, fakeServices());
    anonymous.start();
    await anonymous.idle();
    await drive(anonymous, down, enter, { kind: 'action', name: 'send' });
    expect(anonymous.state.notice?.text).toMatch(/^Cannot send the inventory: this machine has no trowel.mac and trowel.token/);
  });

  it('runs shell, reboot and power off from the menu and reports a refusal', async () => {
    const services = fakeServices({ reboot: async () => { throw new TrowelError('ENOREBOOT', 'Cannot reboot: the console runs with --no-reboot'); } });
    const { session } = await started(services);
    await drive(session, { kind: 'action', name: 'shell' }, { kind: 'action', name: 'poweroff' }, { kind: 'action', name: 'reboot' });
    expect(services.calls.slice(1)).toEqual(['shell', 'poweroff']);
    expect(session.state.notice).toEqual({ text: 'Cannot reboot: the console runs with --no-reboot', tone: 'error' });
    await drive(session, { kind: 'action', name: 'quit' });
    expect(services.calls.at(-1)).toBe('quit');
  });
});
