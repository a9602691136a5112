import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setupTftpRoot } from './setup-tftp.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'trowel-setup-'));
  dirs.push(d);
  return d;
}

describe('setupTftpRoot', () => {
  it('copies what exists, reports what is missing, and is idempotent', () => {
    const src = tmp();
    mkdirSync(join(src, 'usr/lib/ipxe'), { recursive: true });
    writeFileSync(join(src, 'usr/lib/ipxe/undionly.kpxe'), 'kpxe-bytes');
    writeFileSync(join(src, 'usr/lib/ipxe/ipxe.efi'), 'efi-bytes');
    const root = join(tmp(), 'tftp');
    const first = setupTftpRoot(root, src);
    expect(first).toContain(`copied   undionly.kpxe <- ${src}/usr/lib/ipxe/undionly.kpxe`);
    expect(first.filter((l) => l.startsWith('missing'))).toHaveLength(5);
    expect(readFileSync(join(root, 'ipxe.efi'), 'utf8')).toBe('efi-bytes');
    expect(setupTftpRoot(root, src).filter((l) => l.startsWith('current'))).toHaveLength(2);
  });

  it('copies GRUB\'s network image beside ipxe.efi, for UEFI machines set to local', () => {
    const src = tmp();
    mkdirSync(join(src, 'usr/lib/ipxe'), { recursive: true });
    mkdirSync(join(src, 'usr/lib/grub/x86_64-efi/monolithic'), { recursive: true });
    writeFileSync(join(src, 'usr/lib/ipxe/ipxe.efi'), 'efi-bytes');
    writeFileSync(join(src, 'usr/lib/grub/x86_64-efi/monolithic/grubnetx64.efi'), 'grub-bytes');
    const root = join(tmp(), 'tftp');
    expect(setupTftpRoot(root, src)).toContain(`copied   grubnetx64.efi <- ${src}/usr/lib/grub/x86_64-efi/monolithic/grubnetx64.efi`);
    expect(readFileSync(join(root, 'grubnetx64.efi'), 'utf8')).toBe('grub-bytes');
  });

  it('refuses when no iPXE binary is installed', () => {
    expect(() => setupTftpRoot(join(tmp(), 'tftp'), tmp())).toThrow(/no iPXE binaries found/);
  });
});
