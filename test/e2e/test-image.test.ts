/**
 * The e2e test image on its own, without PXE: QEMU boots it directly
 * (-kernel/-initrd) so a broken image fails here in seconds, with a clear
 * cause, rather than as a timeout in pxe-boot.test.ts.
 */
import { mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestImage, TEST_IMAGE_MARKER, type TestImage } from '../../appliance/test-image/build.ts';
import { createBridge, createTap, Netns } from '../../src/lab/netns.ts';
import { startVm, type Vm } from '../../src/lab/qemu.ts';
import { run } from '../../src/sys/run.ts';

describe('test boot image', () => {
  let dir: string;
  let image: TestImage;
  let ns: Netns | undefined;
  let vm: Vm | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trowel-test-image-'));
    image = await buildTestImage(dir);
  });

  afterAll(async () => {
    await vm?.stop();
    await ns?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('buildTestImage builds once, then skips until an output is older than its inputs', async () => {
    expect(image).toEqual({ kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initramfs'), built: true });
    expect((await buildTestImage(dir)).built).toBe(false);
    await utimes(image.initrd, new Date(0), new Date(0));
    expect((await buildTestImage(dir)).built).toBe(true);
  });

  it('buildTestImage packs a gzip cpio (newc) with /init, busybox and /bin/sh', async () => {
    const cpio = gunzipSync(await readFile(image.initrd));
    // "070701" opens every newc header (cpio(5)).
    expect(cpio.subarray(0, 6).toString('latin1')).toBe('070701');
    const { stdout } = await run('cpio', ['--list', '--quiet'], { input: cpio });
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual(['bin', 'bin/busybox', 'bin/sh', 'dev', 'init', 'proc', 'sys']);
  });

  it('the image prints the marker with trowel.mac and its command line, then powers off', async () => {
    ns = await Netns.create();
    await createBridge(ns, 'br0', undefined);
    await createTap(ns, 'tap0', 'br0');
    const mac = '52:54:00:e2:e1:01';
    const args = `console=ttyS0 trowel.mac=${mac} quiet`;
    vm = await startVm({ ns, tap: 'tap0', firmware: 'bios', mac, directBoot: { kernel: image.kernel, initrd: image.initrd, args } });
    const line = await vm.waitForSerial(new RegExp(`^${TEST_IMAGE_MARKER} `), 120_000);
    expect(line).toBe(`${TEST_IMAGE_MARKER} mac=${mac} cmdline=${args}`);
    // poweroff -f ends QEMU by itself (exit status 0), so the PXE tests never leave a VM spinning.
    expect(await vm.exited).toBe(0);
  });
});
