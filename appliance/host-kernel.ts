/**
 * The host's newest Debian kernel (/boot/vmlinuz-*, package linux-image-amd64),
 * which both the PXE image and the e2e test image boot.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TrowelError } from '../src/errors.ts';

const BOOT_DIR = '/boot';

/** The newest /boot/vmlinuz-* by version order (e.g. 6.1.0-56 after 6.1.0-9); `what` names the build in the error. */
export async function newestKernel(what: string): Promise<string> {
  const names = (await readdir(BOOT_DIR)).filter((n) => n.startsWith('vmlinuz-'));
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const newest = names.at(-1);
  if (!newest) {
    throw new TrowelError('ENOKERNEL', `Cannot build ${what}: no ${BOOT_DIR}/vmlinuz-* found`, {
      hint: 'install linux-image-amd64 (scripts/install-deps.sh)',
    });
  }
  return join(BOOT_DIR, newest);
}
