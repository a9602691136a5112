/**
 * `trowel tui` in a real terminal: tmux runs the console from sources at
 * 80x25 against a real trowel server (pool on loop btrfs, signed streams,
 * the machine API), with two loop devices standing in for the machine's
 * disks: one blank, one holding a GPT with an ext4 partition full of data.
 * The test types like a technician and reads the screen: the disk table,
 * the layout preview, a wrong disk name refused with nothing written, a
 * free-space install beside the data, an incremental update with package
 * changes, the hardware inventory, and (on a vt100) a whole-disk install.
 * Every deployment is checked on the disk itself.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffPackages, parseDpkgStatus } from '../../src/pool/packages.ts';
import type { TemplateVersion } from '../../src/pool/index.ts';
import { getDefaultSubvolume } from '../../src/sys/btrfs.ts';
import { run } from '../../src/sys/run.ts';
import { createLoopDisk, startProvisionServer, type LoopDisk, type ProvisionServerFixture } from '../helpers/provision-server.ts';
import { TmuxSession } from '../helpers/tmux.ts';

const ROOT = join(import.meta.dirname, '../..');
const NAME = 'org.example.Console';
/** Listed after NAME; its cached stream is corrupted, so receiving it fails. */
const TAMPERED = 'org.example.Tampered';
const PARENT_STATUS = join(ROOT, 'test/fixtures/dpkg/status-parent');
const CHILD_STATUS = join(ROOT, 'test/fixtures/dpkg/status-child');

describe('trowel tui in a real terminal', () => {
  let server: ProvisionServerFixture;
  let blank: LoopDisk;
  let data: LoopDisk;
  let v1: TemplateVersion;
  let v2: TemplateVersion;
  let work: string;
  const sessions: TmuxSession[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'trowel-tui-test-'));
    server = await startProvisionServer();
    v1 = await server.publish(NAME, 'one', { dpkgStatus: PARENT_STATUS });
    v2 = await server.publish(NAME, 'two', { dpkgStatus: CHILD_STATUS });
    const bad = await server.publish(TAMPERED, 'bad');
    const signed = (await (await fetch(`${server.base}/api/v1/templates/${TAMPERED}/x86_64/${bad.version}/manifest`)).json()) as { manifest: { sha256: string } };
    const cached = join(server.f.dir, 'cache', `${signed.manifest.sha256}.zst`);
    const bytes = await readFile(cached);
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 0xff;
    await writeFile(cached, bytes);
    blank = await createLoopDisk(1536);
    data = await createLoopDisk(1536);
    await run('sfdisk', ['--quiet', data.device], { input: 'label: gpt\nsize=300MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="data"\n' });
    await run('partx', ['--update', data.device]);
    await run('mkfs.ext4', ['-q', '-L', 'data', `${data.device}p1`]);
    await withMount(`${data.device}p1`, [], (dir) => writeFile(join(dir, 'keep-me.txt'), 'precious\n'));
  });

  afterAll(async () => {
    for (const s of sessions) await s.kill();
    // A failed assertion may leave the test's own look-mounts behind, and a console killed
    // mid-run its pool mounts: anything mounted from the loop disks goes.
    const ours = (source: string | undefined) => [blank?.device, data?.device].some((d) => d && source?.startsWith(`${d}p`));
    for (const m of (await readFile('/proc/self/mounts', 'utf8').catch(() => '')).split('\n')) {
      const [source, point] = m.split(' ');
      if (point && ((work && point.startsWith(work)) || ours(source))) await run('umount', ['--lazy', point]).catch(() => {});
    }
    await blank?.detach();
    await data?.detach();
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Starts the console; `term` as the PXE console or a serial line would set it. */
  async function startConsole(term = 'xterm-256color'): Promise<TmuxSession> {
    const cmdline = `trowel.mac=${server.mac} trowel.token=${server.token}`;
    const s = await TmuxSession.start({
      cwd: ROOT, term, columns: 80, rows: 25,
      command: `npx node src/cli/main.ts tui --server ${server.base} --key ${server.keyFile} --include-disk ${blank.device} --include-disk ${data.device} --no-reboot --cmdline '${cmdline}'`,
    });
    sessions.push(s);
    await s.waitFor('> Provision this machine', 60_000);
    return s;
  }

  /** Presses a key and waits for the screen to show `pattern`. */
  async function press(s: TmuxSession, key: string, pattern: RegExp | string): Promise<string> {
    await s.sendKeys(key);
    return s.waitFor(pattern);
  }

  /** Moves the selection ("> " line) down, one redrawn step at a time, until it matches `pattern`. */
  async function select(s: TmuxSession, pattern: RegExp): Promise<string> {
    const selected = (screen: string) => screen.split('\n').find((l) => l.startsWith('> ')) ?? '';
    for (let i = 0; i < 12; i++) {
      const screen = await s.capture();
      if (pattern.test(selected(screen))) return screen;
      await s.sendKeys('Down');
      // The next key only once the console has drawn this one: no overshooting a slow redraw.
      const deadline = Date.now() + 5000;
      while (selected(await s.capture()) === selected(screen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`No line matching ${String(pattern)} could be selected; the screen was:\n${await s.capture()}`);
  }

  const escaped = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));

  it('walks every screen: a wrong disk name writes nothing, then free space installs beside the data', async () => {
    const s = await startConsole();
    const disks = await press(s, 'Enter', data.name);
    expect(disks).toMatch(/DEVICE\s+MODEL\s+SERIAL\s+SIZE\s+TYPE/);
    expect(disks).toMatch(new RegExp(`[ >] ${blank.name}\\s+-\\s+-\\s+1\\.50 GiB\\s+loop`));
    expect(disks).toMatch(new RegExp(`[ >] ${data.name}\\s+-\\s+-\\s+1\\.50 GiB\\s+loop`));
    expect(disks).toContain("    gpt: 1 ext4 'data' 300.0 MiB | Linux");
    expect(disks).toContain('    blank');

    await select(s, new RegExp(`^> ${data.name} `));
    const layout = await press(s, 'Enter', 'How should');
    expect(layout).toContain('> Whole disk: new GPT for UEFI and BIOS (erases the disk)');
    expect(layout).toContain(`Preview: New GPT on ${data.device}; erases 1 partition (ext4 'data')`);
    expect(layout).toMatch(new RegExp(`1\\s+${data.device}p1\\s+1\\.00 MiB\\s+BIOS boot \\(GRUB\\)\\s+new`));
    expect(layout).toMatch(new RegExp(`3\\s+${data.device}p3\\s+~\\d.*btrfs 'trowel'`));
    expect(layout).toContain('Keep the trowel pool: update it, @home and @persistent kept (not possible)');
    await s.sendKeys('Down', 'Down');
    const free = await s.waitFor('> Use free space');
    expect(free).toContain(`Preview: Nothing is erased; 3 partitions are added to the GPT of ${data.device}`);
    expect(free).toMatch(new RegExp(`1\\s+${data.device}p1\\s+300\\.0 MiB\\s+ext4 'data'\\s+kept`));
    expect(free).toMatch(new RegExp(`4\\s+${data.device}p4\\s+[\\d.]+ MiB\\s+btrfs 'trowel'.*new`));

    // Whole disk first, to be refused at the confirmation.
    await s.sendKeys('Up', 'Up');
    await s.waitFor('> Whole disk');
    await press(s, 'Enter', `> ${NAME}`);
    const versions = await press(s, 'Enter', 'PUBLISHED (UTC)');
    expect(versions).toContain('no version of it on the disk to compare packages');
    expect(versions).toMatch(new RegExp(`> ${v2.version}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+[\\d.]+ MiB\\s+-`));
    await s.sendKeys('Down');
    await s.waitFor(`> ${v1.version}`);
    const transports = await press(s, 'Enter', 'How should the template come');
    expect(transports).toContain('> HTTP: this machine downloads the stream from the server');
    await press(s, 'Enter', 'Host name: trowel-525400123456_');
    const confirm = await press(s, 'Enter', 'Hostname');
    expect(confirm).toContain(`Install   ${NAME} x86_64 ${v1.version} over http`);
    expect(confirm).toMatch(/ERASES\s+loop\d+p1 ext4 'data' 300\.0 MiB; the Linux system on it; the gpt/);
    expect(confirm).toContain(`Disk to erase (${data.name}): _`);

    const before = await digest(data.device);
    await s.type(blank.name);
    const refused = await press(s, 'Enter', 'nothing was written');
    expect(refused).toContain(`"${blank.name}" is not ${data.name}: nothing was written (Esc goes back)`);
    await s.type(`/dev/${data.name}x`);
    await press(s, 'Enter', `"/dev/${data.name}x" is not ${data.name}`);
    expect(await digest(data.device)).toBe(before);
    expect((await run('blkid', ['-p', '-o', 'export', `${data.device}p1`])).stdout).toMatch(/^LABEL=data$/m);

    // Back to the layout, and use the free space instead: nothing to type.
    for (const title of ['Host name', 'Transport', 'Version', 'Template', 'Layout']) await press(s, 'Escape', `trowel console - ${title}`);
    await s.sendKeys('Down', 'Down');
    await s.waitFor('> Use free space');
    await press(s, 'Enter', `> ${NAME}`);
    await press(s, 'Enter', 'PUBLISHED (UTC)');
    await s.sendKeys('Down');
    await s.waitFor(`> ${v1.version}`);
    await press(s, 'Enter', '> HTTP');
    await press(s, 'Enter', 'Host name: trowel-525400123456_');
    await s.sendKeys(...Array.from({ length: 19 }, () => 'BSpace'));
    await s.type('web_01');
    await press(s, 'Enter', 'Cannot use host name "web_01"');
    await s.sendKeys(...Array.from({ length: 6 }, () => 'BSpace'));
    await s.type('web-01');
    const gentle = await press(s, 'Enter', 'Press Enter to start.');
    expect(gentle).toContain('Hostname  web-01');
    expect(gentle).toContain('Erases    nothing: every partition on the disk stays');
    expect(gentle).not.toContain('Disk to erase');
    await s.sendKeys('Enter');
    const progress = await s.waitFor(/trowel console - (Provisioning|Done)/, 30_000);
    if (progress.includes('Provisioning')) expect(progress).toMatch(/Overall\s+\[.*\] \d+%/);
    const done = await s.waitFor('Provisioning complete: 100%.', 120_000);
    expect(done).toMatch(/Overall\s+\[█{38}\] 100%/);
    expect(done).toMatch(/receive\s+\[█{38}\] done/);
    expect(done).toContain(`Deployed @root:${NAME}:x86_64:${v1.version} on ${data.device}`);

    // The data partition is untouched, and the new pool holds the deployed root.
    await withMount(`${data.device}p1`, ['-o', 'ro'], async (dir) => expect(await readFile(join(dir, 'keep-me.txt'), 'utf8')).toBe('precious\n'));
    const parts = JSON.parse((await run('sfdisk', ['--json', data.device])).stdout).partitiontable.partitions as { name: string }[];
    expect(parts.map((p) => p.name)).toEqual(['data', 'bios', 'esp', 'pool']);
    await withMount(`${data.device}p4`, ['-o', 'ro,subvolid=5'], async (top) => {
      expect((await readdir(top)).sort()).toEqual(['@home', '@persistent', `@root:${NAME}:x86_64:${v1.version}`, `@template:${NAME}:x86_64:${v1.version}`]);
      expect(await readFile(join(top, `@root:${NAME}:x86_64:${v1.version}`, 'etc/marker'), 'utf8')).toBe('one\n');
      expect(await readFile(join(top, `@root:${NAME}:x86_64:${v1.version}`, 'etc/hostname'), 'utf8')).toBe('web-01\n');
      expect(await getDefaultSubvolume(top)).toMatchObject({ path: `@root:${NAME}:x86_64:${v1.version}` });
    });

    // Then keep the pool: the package changes against what is on the disk, and an incremental receive.
    await press(s, 'Escape', '> Provision this machine');
    await press(s, 'Enter', data.name);
    await select(s, new RegExp(`^> ${data.name} `));
    const keep = await press(s, 'Enter', '> Keep the trowel pool');
    expect(keep).toContain(`on it: ${NAME} ${v1.version}`);
    expect(keep).toMatch(new RegExp(`4\\s+${data.device}p4\\s+.*btrfs 'trowel'\\s+receive the template`));
    const onDisk = await press(s, 'Enter', `On the disk: ${NAME} x86_64 ${v1.version}`);
    expect(onDisk).toContain(`> ${NAME}`);
    const diff = diffPackages(parseDpkgStatus(await readFile(PARENT_STATUS, 'utf8')), parseDpkgStatus(await readFile(CHILD_STATUS, 'utf8')));
    const changes = `+${diff.added.length} -${diff.removed.length} ~${diff.changed.length}`;
    const compared = await press(s, 'Enter', escaped(changes));
    expect(compared).toContain(`package changes against ${v1.version}, on the`);
    expect(compared).toMatch(new RegExp(`> ${v2.version}.*${escaped(changes).source}`));
    expect(compared).toMatch(new RegExp(`  ${v1.version}.*on the disk`));
    await press(s, 'Enter', '> HTTP');
    await press(s, 'Enter', 'Host name: web-01_');
    await press(s, 'Enter', 'Press Enter to start.');
    await s.sendKeys('Enter');
    const updated = await s.waitFor('Provisioning complete: 100%.', 120_000);
    expect(updated).toContain(`Deployed @root:${NAME}:x86_64:${v2.version} on ${data.device}`);
    // The whole line, as the machine reported it to the server.
    const events = ((await (await fetch(`${server.base}/api/v1/machines/${server.mac}/events`)).json()) as { events: { step?: string; state?: string; message?: string }[] }).events;
    expect(events.filter((e) => e.step === 'receive' && e.state === 'done').at(-1)?.message).toContain(`@template:${NAME}:x86_64:${v2.version} (incremental from ${v1.version})`);
    await withMount(`${data.device}p4`, ['-o', 'ro,subvolid=5'], async (top) => {
      expect(await getDefaultSubvolume(top)).toMatchObject({ path: `@root:${NAME}:x86_64:${v2.version}` });
      expect(await readFile(join(top, `@root:${NAME}:x86_64:${v2.version}`, 'etc/marker'), 'utf8')).toBe('two\n');
    });
    expect(server.f.machines.get(server.mac)).toMatchObject({ state: 'deployed', action: 'local' });

    // Hardware summary, sent as the machine's inventory and shown by `trowel machines show`.
    await press(s, 'Escape', '> Provision this machine');
    await s.sendKeys('Down');
    await s.waitFor('> Hardware summary');
    const hardware = await press(s, 'Enter', 'Memory');
    expect(hardware).toMatch(/CPU\s+.+\(.*threads\)/);
    expect(hardware).toMatch(/^Memory {2}\d/m);
    expect(hardware).toMatch(new RegExp(`^ {8}${data.name} 1\\.50 GiB loop`, 'm'));
    await press(s, 's', `Inventory sent to ${server.base}`);
    const shown = await run('npx', ['node', 'src/cli/main.ts', 'machines', 'show', server.mac, '--server', server.base], { cwd: ROOT });
    expect(shown.stdout).toMatch(/^hardware {3}reported \d{4}-/m);
    expect(shown.stdout).toMatch(/^ {2}Memory {2}\d/m);
    expect(shown.stdout).toContain(`${data.name} 1.50 GiB loop`);

    await press(s, 'Escape', 'trowel console - Main menu');
    await s.sendKeys('C-c');
    for (let i = 0; i < 50 && !(await s.exited()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await s.exited()).toBe(true);
  });

  it('on a vt100, in ASCII: a failed receive offers Retry/Shell/Reboot/Power off; then a whole disk is erased once its name is typed', async () => {
    const s = await startConsole('vt100');
    expect(await s.capture()).toContain('Up/Down move  Enter choose');
    await press(s, 'Enter', blank.name);
    await select(s, new RegExp(`^> ${blank.name} `));
    const layout = await press(s, 'Enter', '> Whole disk');
    expect(layout).toContain(`Preview: New GPT on ${blank.device}; the disk is blank`);
    await press(s, 'Enter', `> ${NAME}`);
    await select(s, new RegExp(`^> ${TAMPERED} `));
    await press(s, 'Enter', 'PUBLISHED (UTC)');
    await press(s, 'Enter', '> HTTP');
    await press(s, 'Enter', 'Host name: ');
    await press(s, 'Enter', 'Hostname');
    await s.type(blank.name);
    await s.sendKeys('Enter');
    const failed = await s.waitFor('Provisioning failed at step receive:', 120_000);
    expect(failed.replace(/\n {2}/g, ' ')).toMatch(new RegExp(`Cannot receive ${TAMPERED} x86_64 \\d{8}T\\d{6}Z.*nothing was kept`));
    for (const item of ['> Retry', '  Shell', '  Reboot', '  Power off', '  Main menu']) expect(failed).toContain(item);
    expect(failed).toContain('Up/Down move  Enter choose  r retry  s shell  Esc main menu  Ctrl-C quit');
    expect(failed).toContain('receive failed: Cannot receive');

    // The failed run left a pool behind: keep is offered first now, whole disk is one up.
    await press(s, 'Escape', 'trowel console - Main menu');
    await press(s, 'Enter', blank.name);
    await select(s, new RegExp(`^> ${blank.name} `));
    await press(s, 'Enter', '> Keep the trowel pool');
    await press(s, 'Up', '> Whole disk');
    await press(s, 'Enter', `> ${NAME}`);
    await press(s, 'Enter', `> ${v2.version}`);
    await press(s, 'Enter', '> HTTP');
    await press(s, 'Enter', 'Host name: ');
    const confirm = await press(s, 'Enter', 'Hostname');
    // The partitions the failed run made are listed to be erased.
    expect(confirm.replace(/\n {10}/g, ' ')).toMatch(new RegExp(`ERASES +${blank.name}p1 no filesystem 1\\.00 MiB; ${blank.name}p2 vfat 'TROWEL-ESP' 256\\.0 MiB; ${blank.name}p3 btrfs 'trowel' [\\d.]+ GiB; the trowel pool with every version, @home and @persistent; the gpt partition table`));
    await s.type(blank.name);
    await s.sendKeys('Enter');
    const done = await s.waitFor('Provisioning complete: 100%.', 120_000);
    expect(done).toMatch(/Overall\s+\[#{38}\] 100%/);
    expect(done).not.toMatch(/[^\x00-\x7f]/);
    await withMount(`${blank.device}p3`, ['-o', 'ro,subvolid=5'], async (top) => {
      expect(await getDefaultSubvolume(top)).toMatchObject({ path: `@root:${NAME}:x86_64:${v2.version}` });
      expect(await readFile(join(top, `@root:${NAME}:x86_64:${v2.version}`, 'etc/marker'), 'utf8')).toBe('two\n');
    });
  });

  /** Mounts `device` on a fresh directory for `look`, then unmounts it. */
  async function withMount<T>(device: string, options: string[], look: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(work, 'mnt-'));
    await run('mount', [...options, device, dir]);
    try {
      return await look(dir);
    } finally {
      await run('umount', [dir]);
      await rm(dir, { recursive: true });
    }
  }
});

/** sha-256 of a whole device. */
async function digest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
