import { describe, expect, it } from 'vitest';
import { imagePath } from './stage.ts';

describe('imagePath', () => {
  it('imagePath keeps /usr paths and moves /bin, /sbin, /lib and /lib64 under usr/', () => {
    expect(imagePath('/usr/sbin/sfdisk')).toBe('usr/sbin/sfdisk');
    expect(imagePath('/bin/busybox')).toBe('usr/bin/busybox');
    expect(imagePath('/sbin/udhcpc')).toBe('usr/sbin/udhcpc');
    expect(imagePath('/lib/x86_64-linux-gnu/libc.so.6')).toBe('usr/lib/x86_64-linux-gnu/libc.so.6');
    expect(imagePath('/lib64/ld-linux-x86-64.so.2')).toBe('usr/lib64/ld-linux-x86-64.so.2');
  });

  it('imagePath takes busybox --list-full paths, which have no leading slash', () => {
    expect(imagePath('sbin/ifconfig')).toBe('usr/sbin/ifconfig');
    expect(imagePath('usr/bin/wget')).toBe('usr/bin/wget');
  });
});
