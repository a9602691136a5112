import { describe, expect, it } from 'vitest';
import type { Intent } from './flow.ts';
import { ConsoleSession } from './session.ts';
import { disk, fakeServices } from './test-fixtures.ts';
import { erasedItems, viewOf, type ScreenView } from './view.ts';

const SIZE = { columns: 80, rows: 25 };
const ASCII = { ascii: true };

async function sessionAt(...intents: Intent[]): Promise<ConsoleSession> {
  const session = new ConsoleSession({ server: 'http://10.0.0.1:8080', source: 'kernel', canReport: true }, fakeServices());
  session.start();
  await session.idle();
  for (const i of intents) {
    session.dispatch(i);
    await session.idle();
  }
  return session;
}

/** The screen as the renderer lays it out. */
function rows(v: ScreenView): string[] {
  return [v.title, v.status, ...v.lines, ...(v.input ? [`${v.input.label}${v.input.value}_`] : []), v.notice?.text ?? '', v.help];
}

const enter: Intent = { kind: 'choose' };
const down: Intent = { kind: 'move', by: 1 };

describe('viewOf', () => {
  it('fits every screen of a whole run into 80x25, with the selection marked', async () => {
    const path: Intent[][] = [[], [enter], [down, enter], [enter], [enter], [enter], [enter], [enter]];
    const session = await sessionAt();
    const seen: string[] = [];
    for (const step of path) {
      for (const i of step) {
        session.dispatch(i);
        await session.idle();
      }
      const v = viewOf(session.state, SIZE, ASCII);
      seen.push(session.state.screen);
      const screen = rows(v);
      expect(screen.length).toBeLessThanOrEqual(25);
      for (const line of screen) expect(line.length).toBeLessThanOrEqual(80);
      if (v.selected) expect(v.lines[v.selected.from]).toMatch(/^> /);
    }
    expect(seen).toEqual(['menu', 'disks', 'layout', 'template', 'version', 'transport', 'hostname', 'confirm']);
  });

  it('shows the disk table with identity and contents, two lines a disk', async () => {
    const v = viewOf((await sessionAt(enter)).state, SIZE, ASCII);
    expect(v.lines).toEqual([
      '  DEVICE  MODEL      SERIAL  SIZE      TYPE',
      '> vda     TEST DISK  SN-vda  4.00 GiB  virtio SSD',
      '    blank',
      '  vdb     TEST DISK  SN-vdb  4.00 GiB  virtio SSD',
      "    gpt: 1 vfat 100.0 MiB, 2 ntfs 'Windows' 1000.0 MiB | Windows",
      '  vdc     TEST DISK  SN-vdc  4.00 GiB  virtio SSD',
      "    gpt: 1 no filesystem 1.00 MiB, 2 vfat 'TROWEL-ESP' 256.0 MiB, 3 btrfs 'trowel' 3.71 GiB | trowel pool",
    ].map((l) => (l.length > 80 ? `${l.slice(0, 79)}~` : l)));
    expect(v.selected).toEqual({ from: 1, to: 3 });
    expect(v.help.trimEnd()).toBe('Up/Down move  Enter choose disk  r rescan  Esc back  Ctrl-C quit');
    expect(v.help).toHaveLength(80);
  });

  it('lists exactly what an erasing layout destroys and asks for the disk\'s name', async () => {
    const session = await sessionAt(enter, down, enter, enter, enter, enter, enter, enter);
    const v = viewOf(session.state, SIZE, ASCII);
    expect(session.state.screen).toBe('confirm');
    expect(v.lines.join('\n')).toContain("ERASES    vdb1 vfat 100.0 MiB; vdb2 ntfs 'Windows' 1000.0 MiB; the Windows\n          system on it; the gpt partition table");
    expect(v.input).toEqual({ label: 'Disk to erase (vdb): ', value: '' });
    expect(erasedItems({ disk: session.state.disk })).toEqual(["vdb1 vfat 100.0 MiB", "vdb2 ntfs 'Windows' 1000.0 MiB", 'the Windows system on it', 'the gpt partition table']);
  });

  it('keeps the gauges at 100% on the Done screen, above the result and the choices', async () => {
    const session = await sessionAt(enter, enter, enter, enter, enter, enter, enter, ...[...'vda'].map((ch): Intent => ({ kind: 'char', ch })), enter);
    expect(session.state.screen).toBe('done');
    const v = viewOf(session.state, SIZE, ASCII);
    expect(v.lines[0]).toBe(`Overall    [${'#'.repeat(38)}] 100%`);
    expect(v.lines).toContain('Provisioning complete: 100%.');
    expect(v.lines).toContain('Deployed @root:org.example.Desktop:x86_64:20260102T000000Z on /dev/vda');
    expect(v.lines[v.selected!.from]).toBe('> Reboot into the new system');
    expect(rows(v).length).toBeLessThanOrEqual(25);
  });

  it('keeps the selected disk in view when the table is taller than the screen', async () => {
    const many = Array.from({ length: 20 }, (_, i) => disk(`sd${String.fromCharCode(97 + i)}`));
    const session = new ConsoleSession({ server: 'http://s', source: 'kernel', canReport: false }, fakeServices({ discoverDisks: async () => many }));
    session.start();
    await session.idle();
    session.dispatch(enter);
    await session.idle();
    session.dispatch({ kind: 'move', by: 15 });
    const v = viewOf(session.state, SIZE, ASCII);
    expect(v.lines.length).toBeLessThanOrEqual(21);
    expect(v.lines[v.selected!.from]).toMatch(/^> sdp /);
  });

  it('uses the room of a larger terminal', async () => {
    const v = viewOf((await sessionAt(enter)).state, { columns: 132, rows: 43 }, { ascii: false });
    expect(v.lines.at(-1)).toMatch(/^ {4}gpt: .{80,} \| trowel pool$/);
    expect(v.help.trimEnd()).toBe('↑↓ move  Enter choose disk  r rescan  Esc back  Ctrl-C quit');
  });
});
