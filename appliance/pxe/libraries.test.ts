import { describe, expect, it } from 'vitest';
import { parseLdd } from './libraries.ts';

describe('parseLdd', () => {
  it('parseLdd keeps resolved libraries and the loader, and skips the vDSO', () => {
    const text = [
      '\tlinux-vdso.so.1 (0x00007ffc5a3e9000)',
      '\tlibblkid.so.1 => /lib/x86_64-linux-gnu/libblkid.so.1 (0x00007f2b1c2a4000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2b1c0c3000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f2b1c31b000)',
      '',
    ].join('\n');
    expect(parseLdd(text)).toEqual({
      paths: ['/lib/x86_64-linux-gnu/libblkid.so.1', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'],
      missing: [],
    });
  });

  it('parseLdd reports sonames that are not found', () => {
    const text = '\tlibgone.so.2 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2b1c0c3000)\n';
    expect(parseLdd(text)).toEqual({ paths: ['/lib/x86_64-linux-gnu/libc.so.6'], missing: ['libgone.so.2'] });
  });

  it('parseLdd finds nothing for a static program', () => {
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual({ paths: [], missing: [] });
    expect(parseLdd('\tstatically linked\n')).toEqual({ paths: [], missing: [] });
  });
});
