/**
 * A small root filesystem for template tests: every kind of entry a real one
 * has (owners, modes incl. setuid, hard links, symlinks, a fifo, a device,
 * xattrs incl. a POSIX ACL), a static busybox so prepare hooks can run in a
 * chroot, identity files for the hooks to scrub, and the hooks themselves.
 */
import { chmod, chown, copyFile, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../../src/sys/run.ts';

/**
 * system.posix_acl_access granting user 99 read: header version 2, then
 * (tag u16, perm u16, id u32) little-endian entries USER_OBJ rw, USER 99 r,
 * GROUP_OBJ r, MASK r, OTHER r (linux/posix_acl_xattr.h).
 */
export const ACL_USER_99_READ =
  '0x02000000' + '01000600ffffffff' + '0200040063000000' + '04000400ffffffff' + '10000400ffffffff' + '20000400ffffffff';

/** The scrub hook: removes identity files and records what it saw of its chroot. */
export const SCRUB_HOOK = `#!/bin/sh
set -e
rm -f /etc/machine-id /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub
echo "discarded" > /dev/null
{
  echo "template=$TROWEL_TEMPLATE arch=$TROWEL_ARCH pid=$$"
  [ -r /proc/self/status ] && echo "proc=yes"
  [ -c /dev/null ] && echo "devnull=yes"
  [ -e /usr/bin/env ] || echo "chroot=yes"
} > /root/prepared
`;

export async function makeTemplateTree(root: string, options: { hooks?: Record<string, { body: string; mode: number }> } = {}): Promise<void> {
  const file = async (path: string, content: string | Buffer, mode = 0o644, uid = 0, gid = 0) => {
    const abs = join(root, path);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
    await chown(abs, uid, gid); // before chmod: chown clears setuid
    await chmod(abs, mode);
  };
  await mkdir(root, { recursive: true });
  await chmod(root, 0o755);
  for (const dir of ['bin', 'dev', 'proc', 'root', 'tmp', 'run', 'etc/ssh', 'usr/share/doc', 'var/log']) await mkdir(join(root, dir), { recursive: true });
  await chmod(join(root, 'root'), 0o700);
  await chmod(join(root, 'tmp'), 0o1777);

  await copyFile('/bin/busybox', join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'rm', 'cat', 'echo', 'ls']) await symlink('busybox', join(root, 'bin', applet));

  await file('etc/hostname', 'template\n');
  await file('etc/shadow', 'root:*:19000:0:99999:7:::\n', 0o640, 0, 42);
  await file('etc/machine-id', '0123456789abcdef0123456789abcdef\n', 0o444);
  await file('etc/ssh/ssh_host_ed25519_key', 'PRIVATE\n', 0o600);
  await file('etc/ssh/ssh_host_ed25519_key.pub', 'ssh-ed25519 AAAA test\n');
  await file('home/user/.profile', 'export A=1\n', 0o600, 1000, 1000);
  await chown(join(root, 'home/user'), 1000, 1000);
  await chmod(join(root, 'home/user'), 0o750);
  await file('usr/bin/suid-tool', '#!/bin/sh\n', 0o4755);
  await file('usr/share/doc/original', 'shared content\n');
  await link(join(root, 'usr/share/doc/original'), join(root, 'usr/share/doc/hardlink'));
  await symlink('/usr/share/zoneinfo/Etc/UTC', join(root, 'etc/localtime'));
  await symlink('../share/doc/original', join(root, 'usr/bin/relative-link'));
  await file('var/log/messages', 'boot log\n', 0o640, 0, 4);
  await file('usr/share/doc/binary', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff)));
  await run('mkfifo', ['-m', '0620', join(root, 'run/initctl')]);
  await run('mknod', ['-m', '0666', join(root, 'dev/null'), 'c', '1', '3']);
  await run('setfattr', ['-n', 'user.origin', '-v', 'test-tree', join(root, 'etc/hostname')]);
  await run('setfattr', ['-h', '-n', 'trusted.note', '-v', '0x00ff10', join(root, 'usr/share/doc/binary')]);
  await run('setfattr', ['-n', 'system.posix_acl_access', '-v', ACL_USER_99_READ, join(root, 'usr/share/doc/binary')]);

  for (const [name, hook] of Object.entries(options.hooks ?? {})) await file(`etc/trowel/prepare.d/${name}`, hook.body, hook.mode);
}
