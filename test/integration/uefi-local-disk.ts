/**
 * A small GPT disk whose ESP holds `/EFI/BOOT/BOOTX64.EFI`: a standalone
 * GRUB (grub-mkstandalone) whose embedded config prints `marker` on the
 * console and waits, so a test sees on the serial port that the firmware,
 * or a chainloading GRUB, started the disk's own loader. Built from files
 * only (sfdisk, mkfs.vfat -C, mtools), since this host cannot mount vfat;
 * returned as qcow2, the format the lab's VMs take.
 */
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/sys/run.ts';

const MIB = 1024 * 1024;
const ESP_MIB = 8;
const ESP_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';

export async function buildEspDisk(dir: string, marker: string): Promise<string> {
  const cfg = join(dir, 'marker.cfg');
  const loader = join(dir, 'BOOTX64.EFI');
  const esp = join(dir, 'esp.img');
  const raw = join(dir, 'disk.img');
  const qcow2 = join(dir, 'disk.qcow2');

  // $cmdpath is where the firmware says this image came from: the disk, not the network GRUB's NIC.
  await writeFile(cfg, `echo "${marker} cmdpath=$cmdpath"\nsleep 3600\n`);
  await run('grub-mkstandalone', [
    '-O', 'x86_64-efi', '-o', loader,
    '--install-modules=normal echo sleep', '--locales=', '--fonts=', '--themes=',
    `boot/grub/grub.cfg=${cfg}`,
  ]);

  await run('mkfs.vfat', ['-C', '-n', 'TESTESP', esp, String(ESP_MIB * 1024)]);
  await run('mmd', ['-i', esp, '::/EFI', '::/EFI/BOOT']);
  await run('mcopy', ['-i', esp, loader, '::/EFI/BOOT/BOOTX64.EFI']);

  // 1 MiB for the primary GPT, the ESP, 1 MiB for the backup GPT.
  await run('truncate', ['-s', `${ESP_MIB + 2}M`, raw]);
  await run('sfdisk', ['--quiet', raw], { input: `label: gpt\nstart=2048, size=${ESP_MIB * 2048}, type=${ESP_TYPE}, name=esp\n` });
  const disk = await open(raw, 'r+');
  try {
    await disk.write(await readFile(esp), 0, undefined, MIB);
  } finally {
    await disk.close();
  }
  await run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return qcow2;
}
