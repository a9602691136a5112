/**
 * The provisioning client end to end on a real (loop) disk: a trowel HTTP
 * server on 127.0.0.1 with a template pool on loop btrfs, signed streams and
 * the machine API; runProvision partitions, formats, receives, deploys and
 * (for a template that has one) runs GRUB, reporting every step to that
 * server. Templates are tiny root filesystems made of busybox-static, so the
 * deploy hooks and the template's grub-install/grub-mkconfig really run in
 * the target chroot. The grub programs of the test template are scripts that
 * record how they were called; the e2e tests boot a real GRUB.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, open, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrowelError } from '../../src/errors.ts';
import { startHttpServer, type HttpServer } from '../../src/http/index.ts';
import { ADMIN_TOKEN, makeFixture, type Fixture } from '../../src/http/test-fixture.ts';
import { createLoopBtrfs, type LoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { createLogger, LogLevel, type LogRecord } from '../../src/log/logger.ts';
import { TemplatePool, type TemplateVersion } from '../../src/pool/index.ts';
import { runProvision, type ProvisionOptions } from '../../src/provision/run-provision.ts';
import { initKeys, loadSigningKey, publicKeyBase64, StreamCache, type SigningKey } from '../../src/stream/index.ts';
import { createSubvolume, getDefaultSubvolume, showSubvolume } from '../../src/sys/btrfs.ts';
import { run } from '../../src/sys/run.ts';

const MAC = '52:54:00:12:34:56';
const PLAIN = 'org.example.Plain';
const GRUB = 'org.example.Grub';
const GRUB_EFI = 'org.example.GrubEfi';
const BROKEN = 'org.example.Broken';
const GPT = { bios: '21686148-6449-6E6F-744E-656564454649', esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4' };

const DEPLOY_HOOK = `#!/bin/sh
echo "template=$TROWEL_TEMPLATE version=$TROWEL_VERSION hostname=$TROWEL_HOSTNAME disk=$TROWEL_DISK mac=$TROWEL_MAC etc=$(cat /etc/hostname)" > /var/log/trowel-deploy.txt
for link in /dev/disk/by-uuid/*; do test -b "$link" && echo "by-uuid $(basename "$link") -> $(readlink "$link")"; done >> /var/log/trowel-deploy.txt
`;
// Stand-ins for the template's GRUB: they record their arguments and check what the real ones need.
const GRUB_INSTALL = `#!/bin/sh
echo "$*" >> /var/log/grub-install.log
case "$1" in
  --target=i386-pc) test -b "$2" || { echo "grub-install: $2 is not a block device" >&2; exit 1; } ;;
  --target=x86_64-efi) mkdir -p /boot/efi/EFI/BOOT && echo grub > /boot/efi/EFI/BOOT/BOOTX64.EFI ;;
esac
`;
// As Debian's 10_linux does: the root subvolume comes from what is mounted on /.
const GRUB_MKCONFIG = `#!/bin/sh
subvol=$(awk '$5 == "/" { print $4 }' /proc/self/mountinfo | tail -n 1)
subvol=\${subvol#/}
mkdir -p "$(dirname "$2")"
printf "menuentry 'Test' {\\n\\tlinux /%s/boot/vmlinuz root=LABEL=trowel ro rootflags=subvol=%s\\n}\\n" "$subvol" "$subvol" > "$2"
`;

async function makeTemplateTree(root: string, options: { grub: readonly string[]; marker: string }): Promise<void> {
  for (const d of ['bin', 'etc/trowel/deploy.d', 'usr/sbin', 'var/log', 'var/lib/dbus', 'boot', 'home', 'proc', 'sys', 'dev', 'run']) await mkdir(join(root, d), { recursive: true });
  await copyFile('/bin/busybox', join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'awk', 'tail', 'mkdir', 'cat', 'dirname', 'basename', 'readlink']) await symlink('busybox', join(root, 'bin', applet));
  await writeFile(join(root, 'etc/hostname'), 'template\n');
  await writeFile(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\ttemplate\n');
  await writeFile(join(root, 'etc/fstab'), '# UNCONFIGURED FSTAB FOR BASE SYSTEM\ntmpfs /tmp tmpfs nosuid,nodev 0 0\n');
  await writeFile(join(root, 'etc/machine-id'), 'b08dfa6083e7567a1921a715000001fb\n');
  await symlink('/etc/machine-id', join(root, 'var/lib/dbus/machine-id'));
  await writeFile(join(root, 'etc/marker'), `${options.marker}\n`);
  await writeFile(join(root, 'etc/trowel/deploy.d/10-record'), DEPLOY_HOOK, { mode: 0o755 });
  await writeFile(join(root, 'etc/trowel/deploy.d/20-disabled'), '#!/bin/sh\nexit 1\n', { mode: 0o644 });
  if (options.grub.length > 0) {
    await writeFile(join(root, 'usr/sbin/grub-install'), GRUB_INSTALL, { mode: 0o755 });
    await writeFile(join(root, 'usr/sbin/grub-mkconfig'), GRUB_MKCONFIG, { mode: 0o755 });
    for (const platform of options.grub) await mkdir(join(root, 'usr/lib/grub', platform), { recursive: true });
  }
}

describe('provisioning a loop disk from a real trowel server', () => {
  let f: Fixture;
  let source: LoopBtrfs;
  let key: SigningKey;
  let pool: TemplatePool;
  let server: HttpServer;
  let base: string;
  let token: string;
  let work: string;
  let image: string;
  let disk = '';
  let plain: TemplateVersion;
  let grub1: TemplateVersion;
  const logs: LogRecord[] = [];
  const log = createLogger('provision', (r) => logs.push(r), LogLevel.debug);

  beforeAll(async () => {
    f = makeFixture();
    source = await createLoopBtrfs(256);
    await initKeys(f.dir);
    key = await loadSigningKey(f.dir);
    let tick = Date.UTC(2026, 10, 22, 2, 37, 10);
    pool = await TemplatePool.open(join(source.mountpoint, 'pool'), { now: () => new Date((tick += 1000)) });
    const templates = [[PLAIN, []], [GRUB, ['i386-pc']], [GRUB_EFI, ['i386-pc', 'x86_64-efi']], [BROKEN, []]] as const;
    for (const [name, grub] of templates) {
      const tree = join(source.mountpoint, `work-${name}`);
      await createSubvolume(tree);
      await makeTemplateTree(tree, { grub, marker: `${name} 1` });
      const v = await pool.publish({ name, arch: 'x86_64', from: { kind: 'subvolume', path: tree } });
      if (name === PLAIN) plain = v;
      if (name === GRUB) grub1 = v;
    }
    const streams = new StreamCache({ cacheDir: join(f.dir, 'cache'), pool, signingKey: key, metrics: f.metrics, log: f.options.log });
    server = await startHttpServer({ ...f.options, pool, streams, bindAddress: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${server.port}`;
    token = f.machines.recordContact({ mac: MAC }).token;

    work = await mkdtemp(join(tmpdir(), 'trowel-provision-test-'));
    image = join(work, 'disk.img');
    await run('truncate', ['-s', '2G', image]);
    disk = (await run('losetup', ['--find', '--show', '--partscan', image])).stdout.trim();
  });

  afterAll(async () => {
    // runProvision unmounts what it mounts; a failed assertion may leave the test's own inspection mounts.
    for (const m of (await readFile('/proc/self/mounts', 'utf8').catch(() => '')).split('\n')) {
      const point = m.split(' ')[1];
      if (work && point?.startsWith(work)) await run('umount', ['--lazy', point]).catch(() => {});
    }
    if (disk) await run('losetup', ['--detach', disk]).catch(() => {});
    if (work) await rm(work, { recursive: true, force: true });
    await server?.close();
    await source?.destroy();
    f?.cleanup();
  });

  const cmdline = (extra = '') =>
    `console=ttyS0 trowel.server=${base} trowel.mac=${MAC} trowel.token=${token} trowel.key=${publicKeyBase64(key.publicKey)} trowel.mode=unattended ${extra}`;

  async function setPlan(plan: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${base}/api/v1/machines/${MAC}/plan`, {
      method: 'PUT', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(plan),
    });
    expect(res.status).toBe(200);
  }

  async function serverEvents(): Promise<{ id: number; kind: string; step?: string; state?: string; message?: string; error?: string; bytes?: number }[]> {
    return ((await (await fetch(`${base}/api/v1/machines/${MAC}/events`)).json()) as { events: [] }).events;
  }

  /** Events posted since `afterId`, as "step state", progress left out. */
  async function stepsSince(afterId: number): Promise<string[]> {
    return (await serverEvents()).filter((e) => e.id > afterId && e.kind === 'step' && e.state !== 'progress').map((e) => `${e.step} ${e.state}`);
  }

  const lastEventId = async () => (await serverEvents()).at(-1)?.id ?? 0;

  async function provision(extra: string, options: Partial<ProvisionOptions> = {}) {
    const reboots: number[] = [];
    const result = await runProvision({ cmdline: cmdline(extra), log, workDir: work, firmware: 'bios', reboot: async () => void reboots.push(Date.now()), ...options });
    return { result, reboots };
  }

  async function failure(p: Promise<unknown>): Promise<TrowelError> {
    try {
      await p;
    } catch (e) {
      if (e instanceof TrowelError) return e;
      throw e;
    }
    throw new Error('expected runProvision to fail');
  }

  /** Mounts the pool's top level read-only for a look, then unmounts it. */
  async function inPool<T>(look: (top: string) => Promise<T>): Promise<T> {
    const top = await mkdtemp(join(work, 'look-'));
    await run('mount', ['-o', 'ro,subvolid=5', `${disk}p3`, top]);
    try {
      return await look(top);
    } finally {
      await run('umount', [top]);
      await rm(top, { recursive: true });
    }
  }

  const firstMiB = async () => {
    const handle = await open(disk, 'r');
    try {
      const buf = Buffer.alloc(1024 * 1024);
      await handle.read(buf, 0, buf.length, 0);
      return createHash('sha256').update(buf).digest('hex');
    } finally {
      await handle.close();
    }
  };

  it('refuses a disk holding a partition when the plan does not allow wiping, and leaves it untouched', async () => {
    await run('sfdisk', ['--quiet', disk], { input: `label: gpt\nsize=300MiB, type=${GPT.linux}, name="data"\n` });
    await run('partx', ['--update', disk]);
    await run('mkfs.ext4', ['-q', '-L', 'data', `${disk}p1`]);
    await setPlan({ template: PLAIN, disk, hostname: 'web-01' });
    const before = await firstMiB();
    const since = await lastEventId();

    const e = await failure(provision(''));
    expect(e.code).toBe('EDISKINUSE');
    expect(e.message).toBe(`Cannot use ${disk}: it holds 1 partition (ext4 'data') and the plan does not allow wiping`);
    expect(e.hint).toBe('set wipe: true in the plan or trowel.wipe=1');
    expect(await firstMiB()).toBe(before);
    expect((await run('blkid', ['-p', '-o', 'export', `${disk}p1`])).stdout).toMatch(/^LABEL=data$/m);
    expect(await stepsSince(since)).toEqual(['discover started', 'discover done', 'plan started', 'plan failed']);
    expect((await serverEvents()).at(-1)?.error).toBe(`${e.message} (${e.hint})`);
    expect(f.machines.get(MAC)).toMatchObject({ state: 'failed:plan', action: 'provision' });
  });

  it('wipes and provisions the disk with trowel.wipe=1: GPT, ESP, pool with @template/@root/@home/@persistent, the machine\'s files, events in order', async () => {
    const since = await lastEventId();
    const { result, reboots } = await provision('trowel.wipe=1');

    const root = `@root:${PLAIN}:x86_64:${plain.version}`;
    expect(result.rootSubvolume).toBe(root);
    expect(result.bootloader).toEqual({ installed: [], skipped: 'the template has no grub-install' });
    expect(logs.some((r) => r.event === 'bootloader_skipped')).toBe(true);
    expect(reboots).toHaveLength(1);

    const table = JSON.parse((await run('sfdisk', ['--json', disk])).stdout).partitiontable;
    expect(table.label).toBe('gpt');
    expect(table.partitions.map((p: { start: number; size: number; type: string; name: string }) => [p.name, p.type, p.start, p.size])).toEqual([
      ['bios', GPT.bios, 2048, 2048],
      ['esp', GPT.esp, 4096, 256 * 2048],
      // The rest, aligned down to 1 MiB as sfdisk does.
      ['pool', GPT.linux, 4096 + 256 * 2048, Math.floor((table.lastlba + 1 - (4096 + 256 * 2048)) / 2048) * 2048],
    ]);
    const esp = (await run('blkid', ['-p', '-o', 'export', `${disk}p2`])).stdout;
    expect(esp).toMatch(/^TYPE=vfat$/m);
    expect(esp).toMatch(/^LABEL=TROWEL-ESP$/m);
    const poolProbe = (await run('blkid', ['-p', '-o', 'export', `${disk}p3`])).stdout;
    expect(poolProbe).toMatch(/^TYPE=btrfs$/m);
    expect(poolProbe).toMatch(/^LABEL=trowel$/m);
    const poolUuid = /^UUID=(.*)$/m.exec(poolProbe)![1];
    const espUuid = /^UUID=(.*)$/m.exec(esp)![1];

    await inPool(async (top) => {
      expect((await readdir(top)).sort()).toEqual(['@home', '@persistent', root, `@template:${PLAIN}:x86_64:${plain.version}`]);
      expect((await showSubvolume(join(top, `@template:${PLAIN}:x86_64:${plain.version}`))).readonly).toBe(true);
      expect((await showSubvolume(join(top, root))).readonly).toBe(false);
      expect(await getDefaultSubvolume(top)).toMatchObject({ path: root });
      const etc = (file: string) => readFile(join(top, root, 'etc', file), 'utf8');
      expect(await etc('fstab')).toBe(
        '# /etc/fstab: written by trowel when this machine was provisioned.\n' +
        '# <file system>\t<mount point>\t<type>\t<options>\t<dump>\t<pass>\n' +
        `UUID=${poolUuid}\t/\tbtrfs\tdefaults,subvol=/${root}\t0\t0\n` +
        `UUID=${poolUuid}\t/home\tbtrfs\tdefaults,subvol=/@home\t0\t0\n` +
        `UUID=${poolUuid}\t/var/lib/trowel-persistent\tbtrfs\tdefaults,subvol=/@persistent\t0\t0\n` +
        `UUID=${espUuid}\t/boot/efi\tvfat\tumask=0077\t0\t0\n` +
        'tmpfs /tmp tmpfs nosuid,nodev 0 0\n',
      );
      expect(await etc('hostname')).toBe('web-01\n');
      expect(await etc('hosts')).toBe('127.0.0.1\tlocalhost\n127.0.1.1\tweb-01\n');
      const machineId = await etc('machine-id');
      expect(machineId).toMatch(/^[0-9a-f]{32}\n$/);
      expect(machineId).not.toBe('b08dfa6083e7567a1921a715000001fb\n');
      // The hook ran in the target, after the files were written, and the disabled one did not run.
      expect(await readFile(join(top, root, 'var/log/trowel-deploy.txt'), 'utf8'))
        .toBe(`template=${PLAIN} version=${plain.version} hostname=web-01 disk=${disk} mac=${MAC} etc=web-01\n` +
          // The target's own /dev resolves the UUIDs (GRUB's 10_linux needs that to write root=UUID=).
          [[espUuid, `${disk}p2`], [poolUuid, `${disk}p3`]].sort().map(([u, d]) => `by-uuid ${u} -> ../../${d!.slice(5)}\n`).join(''));
      // The template itself is untouched.
      expect(await readFile(join(top, `@template:${PLAIN}:x86_64:${plain.version}`, 'etc/hostname'), 'utf8')).toBe('template\n');
    });

    expect(await stepsSince(since)).toEqual([
      'discover started', 'discover done', 'plan started', 'plan done', 'partition started', 'partition done', 'mkfs started', 'mkfs done',
      'receive started', 'receive done', 'deploy started', 'deploy done', 'bootloader started', 'bootloader done', 'complete done', 'reboot started',
    ]);
    const receiveDone = (await serverEvents()).find((e) => e.id > since && e.step === 'receive' && e.state === 'done')!;
    expect(receiveDone.bytes).toBeGreaterThan(500_000);
    expect(f.machines.get(MAC)).toMatchObject({ state: 'deployed', action: 'local' });
  });

  it.skipIf(!vfatMountable)('installs the template\'s GRUB for UEFI too: removable path on the ESP, which is mounted at /boot/efi for it', async () => {
    await setPlan({ template: GRUB_EFI, disk, hostname: 'web-02', wipe: true });
    const { result } = await provision('', { firmware: 'uefi' });
    const version = result.template!.version;
    const root = `@root:${GRUB_EFI}:x86_64:${version}`;
    expect(result.bootloader).toEqual({ installed: ['i386-pc', 'x86_64-efi'] });
    await inPool(async (top) => {
      expect(await readFile(join(top, root, 'var/log/grub-install.log'), 'utf8')).toBe(
        `--target=i386-pc ${disk}\n--target=x86_64-efi --efi-directory=/boot/efi --removable --no-nvram\n`,
      );
      // Nothing landed in the root's own /boot/efi directory: the ESP was mounted over it.
      expect(await readdir(join(top, root, 'boot/efi'))).toEqual([]);
    });
    const espMount = await mkdtemp(join(work, 'esp-'));
    await run('mount', ['-o', 'ro', `${disk}p2`, espMount]);
    try {
      expect(await readFile(join(espMount, 'EFI/BOOT/BOOTX64.EFI'), 'utf8')).toBe('grub\n');
    } finally {
      await run('umount', [espMount]);
    }
  });

  it('refuses to finish when the template has no GRUB for the firmware this machine uses: nothing boots the half-made root', async () => {
    await setPlan({ template: GRUB, disk, hostname: 'web-02', wipe: true });
    const e = await failure(provision('', { firmware: 'uefi' }));
    expect(e.code).toBe('EBOOTLOADER');
    expect(e.message).toBe(`Cannot make ${disk} boot: this machine starts by UEFI and the deployment lacks GRUB for x86_64-efi (grub-efi-amd64-bin) or an ESP`);
    expect(f.machines.get(MAC)?.state).toBe('failed:bootloader');
    await inPool(async (top) => expect(await getDefaultSubvolume(top)).toEqual({ id: 5, path: '' }));
  });

  it('runs the template\'s GRUB in the target: grub-mkconfig sees the root subvolume mounted as /, grub-install gets the disk; trowel.bench=dd measures the disk', async () => {
    await setPlan({ template: GRUB, disk, hostname: 'web-02', wipe: true });
    const since = await lastEventId();
    const { result } = await provision('trowel.bench=dd');
    const bench = result.events.find((e) => e.step === 'bench' && e.state === 'done')!;
    expect(bench.message).toMatch(/^receive wrote \d+ bytes in [\d.]+ s \([\d.]+ MB\/s, flush [\d.]+ s\); dd wrote \d+ bytes in [\d.]+ s \([\d.]+ MB\/s\); ratio [\d.]+$/);
    expect(bench.bytes).toBeGreaterThan(0);
    expect((await stepsSince(since)).slice(8, 12)).toEqual(['receive started', 'receive done', 'bench started', 'bench done']);
    const root = `@root:${GRUB}:x86_64:${grub1.version}`;
    expect(result.bootloader).toEqual({ installed: ['i386-pc'] });
    expect(logs.some((r) => r.event === 'bootloader_target_missing' && r.firmware === 'uefi')).toBe(true);
    await inPool(async (top) => {
      expect(await readFile(join(top, root, 'var/log/grub-install.log'), 'utf8')).toBe(`--target=i386-pc ${disk}\n`);
      expect(await readFile(join(top, root, 'boot/grub/grub.cfg'), 'utf8')).toBe(
        `menuentry 'Test' {\n\tlinux /${root}/boot/vmlinuz root=LABEL=trowel ro rootflags=subvol=${root}\n}\n`,
      );
      expect(await getDefaultSubvolume(top)).toMatchObject({ path: root });
      // dd's file is gone again.
      expect(await readdir(top)).not.toContain('.trowel-bench-dd');
    });
  });

  it('with layout keep, receives only the difference from the version on disk, keeps @home, and boots the new root', async () => {
    await inPool(async () => {}); // the pool is there
    const home = await mkdtemp(join(work, 'home-'));
    await run('mount', ['-o', 'subvol=/@home', `${disk}p3`, home]);
    await writeFile(join(home, 'kept.txt'), 'mine\n');
    await run('umount', [home]);

    const tree = join(source.mountpoint, `work-${GRUB}`);
    await writeFile(join(tree, 'etc/marker'), `${GRUB} 2\n`);
    const grub2 = await pool.publish({ name: GRUB, arch: 'x86_64', from: { kind: 'subvolume', path: tree } });
    await setPlan({ template: GRUB, disk, hostname: 'web-02', layout: 'keep' });
    const since = await lastEventId();
    const { result } = await provision('');

    expect(result.parent).toBe(grub1.version);
    expect(result.template?.version).toBe(grub2.version);
    const events = (await serverEvents()).filter((e) => e.id > since);
    expect(events.find((e) => e.step === 'partition' && e.state === 'done')?.message).toBe('kept the partitions on the disk');
    expect(events.find((e) => e.step === 'receive' && e.state === 'done')?.message).toBe(`@template:${GRUB}:x86_64:${grub2.version} (incremental from ${grub1.version})`);
    const root2 = `@root:${GRUB}:x86_64:${grub2.version}`;
    await inPool(async (top) => {
      expect(await getDefaultSubvolume(top)).toMatchObject({ path: root2 });
      expect(await readFile(join(top, root2, 'etc/marker'), 'utf8')).toBe(`${GRUB} 2\n`);
      expect(await readFile(join(top, '@home/kept.txt'), 'utf8')).toBe('mine\n');
      // The old root stays, no longer the default.
      expect((await readdir(top)).filter((n) => n.startsWith('@root:'))).toContain(`@root:${GRUB}:x86_64:${grub1.version}`);
    });
  });

  it('refuses a tampered stream in keep mode: nothing new on disk, and the previous root still boots', async () => {
    const tree = join(source.mountpoint, `work-${GRUB}`);
    await writeFile(join(tree, 'etc/marker'), `${GRUB} 3\n`);
    const grub3 = await pool.publish({ name: GRUB, arch: 'x86_64', from: { kind: 'subvolume', path: tree } });
    const previous = await inPool((top) => getDefaultSubvolume(top));
    // The server makes its stream (and manifest) on first request; then the cached file is corrupted.
    const signed = await (await fetch(`${base}/api/v1/templates/${GRUB}/x86_64/${grub3.version}/manifest?parent=${encodeURIComponent(await newestOnDisk())}`)).json() as { manifest: { sha256: string } };
    await flipByteInTheMiddle(join(f.dir, 'cache', `${signed.manifest.sha256}.zst`));

    const since = await lastEventId();
    const e = await failure(provision(''));
    expect(e.message).toMatch(new RegExp(`^Cannot receive ${GRUB} x86_64 ${grub3.version} from \\d{8}T\\d{6}Z: .*; nothing was kept$`));
    expect(await stepsSince(since)).toEqual([
      'discover started', 'discover done', 'plan started', 'plan done', 'partition started', 'partition done', 'mkfs started', 'mkfs done', 'receive started', 'receive failed',
    ]);
    expect(f.machines.get(MAC)?.state).toBe('failed:receive');
    await inPool(async (top) => {
      expect(await getDefaultSubvolume(top)).toEqual(previous);
      expect((await readdir(top)).filter((n) => n.includes(grub3.version))).toEqual([]);
    });
  });

  it('refuses a tampered stream on a fresh disk: partitions made, nothing bootable', async () => {
    const broken = (await pool.list({ name: BROKEN }))[0]!;
    const signed = await (await fetch(`${base}/api/v1/templates/${BROKEN}/x86_64/${broken.version}/manifest`)).json() as { manifest: { sha256: string } };
    await flipByteInTheMiddle(join(f.dir, 'cache', `${signed.manifest.sha256}.zst`));
    await setPlan({ template: BROKEN, disk, wipe: true });
    const e = await failure(provision(''));
    expect(e.message).toMatch(new RegExp(`^Cannot receive ${BROKEN} x86_64 ${broken.version}: .*; nothing was kept$`));
    await inPool(async (top) => {
      expect(await readdir(top)).toEqual([]);
      expect(await getDefaultSubvolume(top)).toEqual({ id: 5, path: '' });
    });
  });

  /** @private The newest Grub version in the pool on the disk (the parent a keep receive will use). */
  async function newestOnDisk(): Promise<string> {
    return inPool(async (top) => (await readdir(top)).filter((n) => n.startsWith(`@template:${GRUB}:`)).sort().at(-1)!.split(':').at(-1)!);
  }
});

/**
 * This host's kernel may lack vfat (a custom VM kernel does); mkfs.vfat and
 * blkid still work, mounting the ESP does not. The e2e tests boot Debian's kernel.
 */
// The UEFI install needs the ESP mounted; this build host's kernel has no vfat module,
// so the case runs where vfat mounts (and the e2e UEFI VM covers it on real firmware).
const vfatMountable = await (async () => {
  await run('modprobe', ['vfat']).catch(() => {});
  return /\svfat$/m.test(await readFile('/proc/filesystems', 'utf8'));
})();

/** Corrupts one byte in the middle of a file (the server's cached stream). */
async function flipByteInTheMiddle(path: string): Promise<void> {
  const data = await readFile(path);
  const at = Math.floor(data.length / 2);
  data[at] = data[at]! ^ 0xff;
  await writeFile(path, data);
}
