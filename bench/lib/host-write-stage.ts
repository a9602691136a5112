/**
 * The write-stage comparison with the CPU not emulated: `trowel template
 * receive` (the same receiveTemplate the PXE client runs: fetch, sha-256,
 * zstd, btrfs receive) from the lab server into a fresh btrfs on a loop
 * device on this machine, then `sync` and dd of the same byte count into
 * that filesystem (src/sys/disk-write.ts). Under TCG the VM's figure is
 * bound by emulated CPU; this one shows the pipeline against real cores.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SERVER_URL, type Lab } from '../../src/lab/lab.ts';
import { createLoopBtrfs } from '../../src/lab/loop-btrfs.ts';
import { describeWriteStage, measureDiskWrite } from '../../src/sys/disk-write.ts';
import { run } from '../../src/sys/run.ts';
import { onCleanup } from './cleanup.ts';
import { parseWriteStage, type WriteStage } from './provision-report.ts';

const CLI = join(import.meta.dirname, '../../src/cli/main.ts');

export interface HostWriteStage extends WriteStage {
  /**
   * The floor set by the tools alone: `zstd -dc <cached stream> | btrfs
   * receive` into a second fresh loop btrfs, then sync, in MB/s of unpacked
   * stream (no HTTP, no digest, no signature).
   */
  rawToolsMBps: number;
}

export async function hostWriteStage(lab: Lab, template: string, arch = 'x86_64'): Promise<HostWriteStage> {
  const { keys } = (await lab.api('GET', '/api/v1/keys')) as { keys: { publicKey: string }[] };
  const keyFile = join(lab.dir, 'bench-signing-key.pem');
  await writeFile(keyFile, keys[0]!.publicKey);
  const { templates } = (await lab.api('GET', '/api/v1/templates')) as { templates: { name: string; arch: string; versions: { version: string }[] }[] };
  const version = templates.find((t) => t.name === template && t.arch === arch)?.versions[0]?.version;
  if (!version) throw new Error(`Cannot measure the host write stage: the lab has no ${template} ${arch}`);
  const signed = (await lab.api('GET', `/api/v1/templates/${template}/${arch}/${version}/manifest`)) as { manifest: { uncompressedSize: number; sha256: string } };

  const fs = await createLoopBtrfs(2048, 'trowel-bench');
  onCleanup(() => fs.destroy());
  await run('sync', []);
  const started = performance.now();
  await lab.ns.exec(process.execPath, [CLI, 'template', 'receive', '--server', SERVER_URL, '--name', template, '--arch', arch, '--version', version, '--into', fs.mountpoint, '--key', keyFile]);
  const receiveMs = performance.now() - started;
  const written = await measureDiskWrite(join(fs.mountpoint, '.trowel-bench-dd'), signed.manifest.uncompressedSize);
  const stage = parseWriteStage(describeWriteStage({ bytes: signed.manifest.uncompressedSize, ms: receiveMs }, written));

  const raw = await createLoopBtrfs(2048, 'trowel-bench-raw');
  onCleanup(() => raw.destroy());
  const cached = join(lab.stateDir, 'cache', `${signed.manifest.sha256}.zst`);
  await run('sync', []);
  const rawStarted = performance.now();
  await run('sh', ['-c', 'zstd -dc "$1" | btrfs receive -e "$2" && sync', 'raw', cached, raw.mountpoint]);
  const rawMs = performance.now() - rawStarted;
  return { ...stage, rawToolsMBps: (signed.manifest.uncompressedSize / 1e6) / (rawMs / 1000) };
}
