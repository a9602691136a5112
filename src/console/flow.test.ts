import { describe, expect, it } from 'vitest';
import { choicesOf, initialStep, isDestructive, nameMatches, update, type ConsoleState } from './flow.ts';
import { disk, sampleDisks, TEMPLATES } from './test-fixtures.ts';

function at(screen: ConsoleState['screen'], extra: Partial<ConsoleState> = {}): ConsoleState {
  const { state } = initialStep({ server: undefined, source: 'none', canReport: false });
  return { ...state, screen, server: { url: 'http://s', source: 'typed', connected: true, input: 'http://s' }, templates: TEMPLATES, ...extra };
}

describe('initialStep', () => {
  it('asks for the server when none is known, and checks one that is', () => {
    expect(initialStep({ server: undefined, source: 'none', canReport: false })).toMatchObject({ state: { screen: 'server', busy: undefined }, effects: [] });
    expect(initialStep({ server: 'http://s', source: 'dhcp', canReport: false })).toMatchObject({
      state: { screen: 'server', busy: 'Connecting to http://s', server: { source: 'dhcp' } }, effects: [{ kind: 'checkServer', url: 'http://s' }],
    });
  });
});

describe('update', () => {
  it('refuses a typed server that is not a URL, before trying it', () => {
    const s = at('server', { server: { url: '', source: 'none', connected: false, input: '10.0.0.1' } });
    const step = update(s, { kind: 'choose' });
    expect(step.effects).toEqual([]);
    expect(step.state.notice?.text).toBe('Cannot use "10.0.0.1": type the server\'s URL, e.g. http://10.0.0.1:8080');
  });

  it('keeps an unusable disk out: read-only or too small', () => {
    const s = at('disks', { disks: [disk('sr0', { readonly: true }), disk('sdz', { sizeBytes: 64 * 2 ** 20 })] });
    expect(update(s, { kind: 'choose' }).state.notice?.text).toBe('Cannot install on /dev/sr0: it is read-only');
    const small = update({ ...s, cursors: { disks: 1 } }, { kind: 'choose' }).state;
    expect(small.notice?.text).toBe('Cannot install on /dev/sdz: it holds 64.0 MiB, less than the 771.0 MiB trowel needs');
    expect(small.screen).toBe('disks');
  });

  it('refuses a layout the disk does not allow', () => {
    const s = at('layout', { disk: sampleDisks()[0], cursors: { layout: 1 } });
    expect(update(s, { kind: 'choose' }).state.notice?.text).toBe('Cannot use that layout on /dev/vda: the disk holds no trowel pool');
  });

  it('does not quit while provisioning writes the disk, and does elsewhere', () => {
    const writing = update(at('progress'), { kind: 'action', name: 'quit' });
    expect(writing.effects).toEqual([]);
    expect(writing.state.notice?.text).toBe('Provisioning is writing the disk: wait for it to end');
    expect(update(at('menu'), { kind: 'action', name: 'quit' }).effects).toEqual([{ kind: 'quit' }]);
  });

  it('types into the confirmation only for an erasing layout', () => {
    const [blank, windows] = sampleDisks();
    const erasing = at('confirm', { disk: blank, layout: 'auto' });
    expect(update(erasing, { kind: 'char', ch: 'v' }).state.typed).toBe('v');
    expect(update(at('confirm', { disk: windows, layout: 'free' }), { kind: 'char', ch: 'v' }).state.typed).toBe('');
  });

  it('follows the pipeline\'s events into the progress model and the log', () => {
    let s = at('progress');
    s = update(s, { kind: 'event', event: { step: 'receive', state: 'progress', bytes: 5, totalBytes: 10, rate: 2 } }).state;
    s = update(s, { kind: 'log', line: 'warning: slow disk' }).state;
    expect(s.progress.bytes).toBe(5);
    expect(s.progress.log).toEqual(['warning: slow disk']);
  });
});

describe('choicesOf, isDestructive, nameMatches', () => {
  it('asks the pipeline to wipe only for the whole-disk layout', () => {
    const d = sampleDisks()[1]!;
    const s = at('confirm', { disk: d, layout: 'free', template: TEMPLATES[0], version: '20260101T000000Z', transport: 'http' });
    expect(choicesOf(s)).toEqual({ server: 'http://s', disk: '/dev/vdb', layout: 'free', wipe: false, template: 'org.example.Desktop', arch: 'x86_64', version: '20260101T000000Z', transport: 'http' });
    expect(isDestructive(s)).toBe(false);
    expect(isDestructive({ ...s, layout: 'auto' })).toBe(true);
    expect(choicesOf({ ...s, layout: 'auto' }).wipe).toBe(true);
  });

  it('takes the kernel name or the device path, nothing looser', () => {
    const d = disk('nvme0n1');
    expect(['nvme0n1', '/dev/nvme0n1', ' nvme0n1 '].map((t) => nameMatches(d, t))).toEqual([true, true, true]);
    expect(['nvme0', 'NVME0N1', 'nvme0n1p1', '', 'yes'].map((t) => nameMatches(d, t))).toEqual([false, false, false, false, false]);
  });
});
