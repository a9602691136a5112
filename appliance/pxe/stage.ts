/**
 * Lays out the image's root filesystem in a directory ("the stage") from
 * host files, then lists it as cpio entries. The stage is what the archive
 * holds, byte for byte, plus /dev/console (added as an entry: no mknod).
 */
import { chmod, copyFile, cp, lstat, mkdir, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../../src/sys/run.ts';
import type { CpioEntry } from './cpio.ts';
import { BUSYBOX, DIRECTORIES, PROGRAM_LINKS, TERMINFO_DIRS, USR_LINKS } from './contents.ts';
import { stageModules } from './modules.ts';

export interface StageInputs {
  /** Host programs to copy (absolute paths). */
  programs: readonly string[];
  /** Their libraries and the loader (absolute host paths, from ldd). */
  libraries: readonly string[];
  /** The trowel single executable (dist/trowel). */
  trowel: string;
  kernelVersion: string;
  /** Module files under /lib/modules/<kernelVersion> (from resolveModules). */
  modules: readonly string[];
  /** Other host files copied to the same path (contents.ts DATA_FILES). */
  dataFiles: readonly string[];
  /** Terminfo entries found on the host (absolute paths). */
  terminfo: readonly string[];
  /** buildroot-overlay/: /init and its configuration, copied over everything else. */
  overlay: string;
  /** The line /etc/trowel-release holds (the image version /init prints). */
  release: string;
}

/**
 * Where a host path goes in the merged-/usr image (pure): /usr/x stays,
 * /bin, /sbin, /lib and /lib64 move under usr/ (the image links them back).
 */
export function imagePath(hostPath: string): string {
  const rel = hostPath.replace(/^\/+/, '');
  return rel.startsWith('usr/') ? rel : `usr/${rel}`;
}

/**
 * Files Buildroot's skeleton would provide and the Debian-assembled image
 * needs: root's account (node's os.userInfo(), the shell prompt) and name
 * service order (glibc has files and dns built in).
 */
const DEBIAN_ETC: Record<string, string> = {
  'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
  'etc/group': 'root:x:0:\ntty:x:5:\n',
  'etc/nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
  'etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost\n',
};

export async function stageImage(stage: string, inputs: StageInputs): Promise<void> {
  for (const dir of DIRECTORIES) await mkdir(join(stage, dir), { recursive: true });
  for (const dir of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64']) await mkdir(join(stage, dir), { recursive: true });
  for (const [link, target] of USR_LINKS) await symlink(target, join(stage, link));

  for (const file of [...inputs.programs, ...inputs.libraries, ...inputs.dataFiles]) await copyInto(stage, file, imagePath(file));
  for (const [link, target] of PROGRAM_LINKS) await symlink(target, join(stage, link));
  await copyInto(stage, inputs.trowel, 'usr/bin/trowel');
  await stageBusybox(stage);
  await stageModules(stage, inputs.kernelVersion, inputs.modules);
  for (const file of inputs.terminfo) {
    const dir = TERMINFO_DIRS.find((d) => file.startsWith(d + '/'));
    await copyInto(stage, file, join('usr/share/terminfo', dir ? file.slice(dir.length + 1) : file));
  }

  for (const [path, text] of Object.entries(DEBIAN_ETC)) await writeFile(join(stage, path), text);
  await writeFile(join(stage, 'etc/trowel-release'), inputs.release + '\n');
  // The overlay goes last: its files win, as in Buildroot (BR2_ROOTFS_OVERLAY).
  await cp(inputs.overlay, stage, { recursive: true, force: true, verbatimSymlinks: true });
}

/** Copies a host file (following links) to `rel` in the stage; set-id bits are dropped (everything runs as root). */
async function copyInto(stage: string, hostFile: string, rel: string): Promise<void> {
  const to = join(stage, rel);
  await mkdir(dirname(to), { recursive: true });
  await copyFile(hostFile, to);
  await chmod(to, (await stat(hostFile)).mode & 0o777);
}

/**
 * busybox and a link per applet (at the applet's own path, e.g. usr/bin/awk,
 * usr/sbin/udhcpc), except where a real program is already staged.
 */
async function stageBusybox(stage: string): Promise<void> {
  await copyInto(stage, BUSYBOX, 'usr/bin/busybox');
  const { stdout } = await run(BUSYBOX, ['--list-full']);
  const present = new Set([...await readdir(join(stage, 'usr/bin')), ...await readdir(join(stage, 'usr/sbin'))]);
  for (const applet of stdout.split('\n').filter(Boolean)) {
    const rel = imagePath(applet);
    const name = rel.split('/').at(-1)!;
    if (present.has(name)) continue;
    present.add(name);
    await mkdir(join(stage, dirname(rel)), { recursive: true });
    const target = rel.startsWith('usr/bin/') ? 'busybox' : rel.startsWith('usr/sbin/') ? '../bin/busybox' : '/usr/bin/busybox';
    await symlink(target, join(stage, rel));
  }
}

/**
 * Every path in the stage as a cpio entry, parents first, sorted for a
 * reproducible archive, plus /dev/console (5:1, RW for root only).
 */
export async function treeEntries(stage: string): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(stage, rel))).sort();
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(stage, path);
      const st = await lstat(full);
      if (st.isSymbolicLink()) entries.push({ type: 'symlink', path, target: await readlink(full) });
      else if (st.isDirectory()) {
        entries.push({ type: 'dir', path, mode: st.mode & 0o7777 });
        await walk(path);
      } else if (st.isFile()) entries.push({ type: 'file', path, mode: st.mode & 0o7777, size: st.size, source: full });
      if (path === 'dev') entries.push({ type: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 });
    }
  };
  await walk('');
  return entries;
}
