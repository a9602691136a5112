/**
 * The console's screenshots for the README (called by screenshots.ts; root:
 * loop devices and a loop btrfs pool): `trowel tui` at 80x25 against a real
 * server with a real pool, two loop disks standing in for the machine's
 * (one blank, one holding a GPT with data), driven with keys the way
 * test/integration/tui.test.ts drives it.
 *
 *   tui-disks.png     the disk table
 *   tui-confirm.png   the confirmation refusing a wrong disk name
 *   tui-progress.png  the progress screen of a whole-disk install
 */
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../src/sys/run.ts';
import { createLoopDisk, startProvisionServer, type LoopDisk, type ProvisionServerFixture } from '../test/helpers/provision-server.ts';
import { TmuxSession } from '../test/helpers/tmux.ts';

const NAME = 'org.example.Desktop';
const COLUMNS = 80;
const ROWS = 25;

type Photograph = (screen: string, columns: number, rows: number, png: string) => Promise<void>;

export async function tuiScreenshots(out: string, photograph: Photograph): Promise<void> {
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const server: ProvisionServerFixture = await startProvisionServer({ mac: '52:54:00:3c:10:07' });
    stops.push(() => server.close());
    await server.publish(NAME, 'one');
    const blank: LoopDisk = await createLoopDisk(1536);
    stops.push(() => blank.detach());
    const data: LoopDisk = await createLoopDisk(1536);
    stops.push(() => data.detach());
    await run('sfdisk', ['--quiet', data.device], { input: 'label: gpt\nsize=300MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="data"\n' });
    await run('partx', ['--update', data.device]);
    await run('mkfs.ext4', ['-q', '-L', 'data', `${data.device}p1`]);

    const s = await TmuxSession.start({
      cwd: resolve('.'),
      columns: COLUMNS,
      rows: ROWS,
      // Unicode line drawing instead of the terminal's alternate character set, which a capture cannot show.
      env: { LANG: 'C.UTF-8', NCURSES_NO_UTF8_ACS: '1' },
      command: `${process.execPath} src/cli/main.ts tui --server ${server.base} --key ${server.keyFile} --include-disk ${blank.device} --include-disk ${data.device} --no-reboot --cmdline 'trowel.mac=${server.mac} trowel.token=${server.token}'`,
    });
    stops.push(() => s.kill());
    const shoot = async (name: string) => photograph(await s.capture({ escapes: true }), COLUMNS, ROWS, join(out, name));
    const press = async (key: string, pattern: RegExp | string) => {
      await s.sendKeys(key);
      return s.waitFor(pattern);
    };
    const select = async (pattern: RegExp) => {
      for (let i = 0; i < 8; i++) await s.sendKeys('Up');
      for (let i = 0; i < 12; i++) {
        if ((await s.capture()).split('\n').some((l) => l.startsWith('> ') && pattern.test(l))) return;
        await s.sendKeys('Down');
        await sleep(150);
      }
      throw new Error(`Cannot select ${String(pattern)}; the screen was:\n${await s.capture()}`);
    };

    await s.waitFor('> Provision this machine', 60_000);
    await press('Enter', data.name);
    await select(new RegExp(`^> ${data.name} `));
    await shoot('tui-disks.png');

    // Whole disk on the disk holding data: the confirmation wants its name, and refuses another.
    await press('Enter', '> Whole disk');
    await press('Enter', `> ${NAME}`);
    await press('Enter', 'PUBLISHED (UTC)');
    await press('Enter', '> HTTP');
    await press('Enter', 'Host name: ');
    await press('Enter', 'Hostname');
    await s.type(blank.name);
    await press('Enter', 'nothing was written');
    await shoot('tui-confirm.png');

    // Then the blank disk, whole: the progress screen, caught while it runs.
    for (const title of ['Host name', 'Transport', 'Version', 'Template', 'Layout', 'Disks']) await press('Escape', `trowel console - ${title}`);
    await select(new RegExp(`^> ${blank.name} `));
    await press('Enter', '> Whole disk');
    await press('Enter', `> ${NAME}`);
    await press('Enter', 'PUBLISHED (UTC)');
    await press('Enter', '> HTTP');
    await press('Enter', 'Host name: ');
    await press('Enter', 'Hostname');
    await s.type(blank.name);
    await s.sendKeys('Enter');
    // Tiny test templates go by fast: the first screen past a third of the way, else the finished one.
    const deadline = Date.now() + 180_000;
    for (;;) {
      const screen = await s.capture({ escapes: true });
      const text = screen.replace(/\x1b\[[0-9;]*m/g, '');
      const overall = Number(/Overall\s+\[.*\] (\d+)%/.exec(text)?.[1] ?? 0);
      if ((overall >= 30 && overall < 100) || text.includes('Provisioning complete: 100%.')) {
        await photograph(screen, COLUMNS, ROWS, join(out, 'tui-progress.png'));
        break;
      }
      if (Date.now() > deadline) throw new Error(`Cannot catch the progress screen; the screen was:\n${text}`);
      await sleep(50);
    }
    await s.waitFor('Provisioning complete: 100%.', 180_000);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}
