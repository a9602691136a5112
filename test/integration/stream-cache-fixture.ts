/**
 * Shared by the stream-cache and templates-http integration tests: a small
 * template tree with everything a root filesystem has (modes, owners,
 * xattrs, symlinks, hard links, a fifo, incompressible and text data), and
 * a real receive of a cached stream (zstd -> btrfs receive).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, chown, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompressor } from '../../src/stream/index.ts';
import { receive } from '../../src/sys/btrfs.ts';
import { run } from '../../src/sys/run.ts';

/** A deterministic pseudo-random (incompressible) buffer, so runs compare alike. */
export function noise(bytes: number, seed: string): Buffer {
  const out = Buffer.alloc(bytes);
  for (let off = 0, i = 0; off < bytes; i++) {
    off += createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  }
  return out;
}

/** ~2.3 MiB: 2 MiB of noise, 256 KiB of text, and one of each kind of entry. */
export async function fillTemplateTree(root: string): Promise<void> {
  for (const dir of ['etc/ssh', 'usr/bin', 'usr/share/doc', 'var/lib/dpkg', 'srv']) await mkdir(join(root, dir), { recursive: true });
  await writeFile(join(root, 'etc/hostname'), 'template\n');
  await writeFile(join(root, 'etc/ssh/sshd_config'), 'PermitRootLogin no\n');
  await chmod(join(root, 'etc/ssh/sshd_config'), 0o600);
  await writeFile(join(root, 'usr/bin/tool'), noise(1024 * 1024, 'tool'));
  await chmod(join(root, 'usr/bin/tool'), 0o4755);
  await writeFile(join(root, 'usr/bin/lib.so'), noise(1024 * 1024, 'lib'));
  await link(join(root, 'usr/bin/tool'), join(root, 'usr/bin/tool-hardlink'));
  await symlink('tool', join(root, 'usr/bin/tool-symlink'));
  await writeFile(join(root, 'usr/share/doc/README'), 'trowel template line\n'.repeat(12_000));
  await writeFile(join(root, 'srv/owned'), 'owned by 1234:5678\n');
  await chown(join(root, 'srv/owned'), 1234, 5678);
  await run('setfattr', ['-n', 'user.trowel', '-v', 'kept', join(root, 'srv/owned')]);
  await run('mkfifo', [join(root, 'srv/fifo')]);
  await writeFile(
    join(root, 'var/lib/dpkg/status'),
    'Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u10\n\n' +
      'Package: zstd\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.5.4+dfsg2-5\n',
  );
}

/** Decompresses a cached stream file (or body bytes) into `btrfs receive -e into`. */
export async function receiveStream(source: string | Buffer, into: string): Promise<void> {
  const receiver = receive(into);
  const input = typeof source === 'string' ? createReadStream(source) : Readable.from([source]);
  const [piped, received] = await Promise.allSettled([pipeline(input, createZstdDecompressor(), receiver.child.stdin), receiver.done]);
  // btrfs receive's own error says why it stopped; the pipe into it would only say "Premature close".
  if (received.status === 'rejected') throw received.reason;
  if (piped.status === 'rejected') throw piped.reason;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
