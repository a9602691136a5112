/**
 * End to end: real firmware PXE-boots from `trowel serve` over a tap in a
 * network namespace and runs the test image (kernel + initramfs over HTTP),
 * whose /init prints a marker with the kernel arguments on the serial console.
 *
 * - BIOS: SeaBIOS + QEMU's iPXE ROM → DHCP (user class iPXE) → script over HTTP.
 * - UEFI: OVMF's own PXE → ipxe.efi over TFTP → DHCP again as iPXE → script over HTTP.
 * - `local`: the same BIOS machine, set to boot its own disk, must not reach the image.
 *
 * Boots run under TCG on a shared machine (~30-90 s each), hence the long waits.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestImage, TEST_IMAGE_MARKER } from '../../appliance/test-image/build.ts';
import { serialLines } from '../../src/lab/qemu.ts';
import { SERVER_URL, startLab, type Lab } from '../../src/lab/lab.ts';

const BOOT_TIMEOUT_MS = 300_000;
const BIOS_MAC = '52:54:00:e2:e0:01';
const UEFI_MAC = '52:54:00:e2:e0:02';
const MARKER = new RegExp(`^${TEST_IMAGE_MARKER} `);

describe('PXE boot from trowel serve (QEMU, TCG)', () => {
  let lab: Lab | undefined;

  beforeAll(async () => {
    lab = await startLab({ dir: await mkdtemp(join(tmpdir(), 'trowel-e2e-')), bootImage: await buildTestImage() });
  });

  afterAll(async () => {
    await lab?.close();
  });

  /** The machine record as the API shows it to anyone on the boot network. */
  async function machine(mac: string): Promise<{ mac: string; arch: number | null; action: string; ip: string | null }> {
    const body = JSON.parse(await lab!.curl([`${SERVER_URL}/api/v1/machines/${mac}`])) as { machine: { mac: string; arch: number | null; action: string; ip: string | null } };
    return body.machine;
  }

  it('BIOS VM (SeaBIOS + iPXE ROM) boots the image with its own per-machine script', async () => {
    const vm = await lab!.startVm({ firmware: 'bios', mac: BIOS_MAC });
    try {
      const line = await vm.waitForSerial(MARKER, BOOT_TIMEOUT_MS);
      expect(line).toContain(`mac=${BIOS_MAC} `);
      expect(line).toContain(`trowel.mac=${BIOS_MAC}`);
      expect(line).toContain(`trowel.server=${SERVER_URL}`);
      expect(line).toContain('console=ttyS0');
    } finally {
      await vm.stop();
    }
    const record = await machine(BIOS_MAC);
    expect(record).toMatchObject({ mac: BIOS_MAC, arch: 0, action: 'discover' });
    expect(record.ip).toMatch(/^10\.0\.0\.(1[0-4]\d|150)$/);
  });

  it('UEFI VM (OVMF PXE → ipxe.efi over TFTP) boots the image with its own per-machine script', async () => {
    const vm = await lab!.startVm({ firmware: 'uefi', mac: UEFI_MAC });
    try {
      const line = await vm.waitForSerial(MARKER, BOOT_TIMEOUT_MS);
      expect(line).toContain(`mac=${UEFI_MAC} `);
      expect(line).toContain(`trowel.server=${SERVER_URL}`);
      // Debian's 2019 iPXE on UEFI gives the kernel no initramfs without it; the marker proves both arrived.
      expect(line).toContain('initrd=initramfs');
    } finally {
      await vm.stop();
    }
    const record = await machine(UEFI_MAC);
    expect(record.mac).toBe(UEFI_MAC);
    expect([7, 9]).toContain(record.arch);
    // The firmware fetched iPXE by TFTP: serve logged a finished transfer of ipxe.efi.
    const tftp = lab!.serve.records.filter((r) => r.event === 'tftp.transfer_end' && r.file === 'ipxe.efi');
    expect(tftp.map((r) => r.result)).toContain('ok');
  });

  it('a machine set to `local` falls through to its firmware instead of booting the image', async () => {
    const token = await lab!.adminToken();
    const put = JSON.parse(await lab!.curl([
      '-X', 'PUT', '-H', `authorization: Bearer ${token}`, '-H', 'content-type: application/json',
      '--data', '{"action":"local"}', `${SERVER_URL}/api/v1/machines/${BIOS_MAC}/action`,
    ])) as { machine: { action: string } };
    expect(put.machine.action).toBe('local');

    const served = lab!.serve.records.length;
    const vm = await lab!.startVm({ firmware: 'bios', mac: BIOS_MAC });
    try {
      // Each wait also stops at the marker, so a wrongly served image fails fast instead of timing out.
      // The local script echoes this through iPXE; SeaBIOS mirrors it on the serial port.
      const local = new RegExp(`trowel: ${BIOS_MAC} boots from its local disk`);
      expect(await vm.waitForSerial(new RegExp(`${local.source}|${MARKER.source}`), BOOT_TIMEOUT_MS)).toMatch(local);
      // No disk: sanboot fails, iPXE exits, and SeaBIOS runs out of boot devices.
      expect(await vm.waitForSerial(new RegExp(`No bootable device|${MARKER.source}`), BOOT_TIMEOUT_MS)).toMatch(/No bootable device/);
      const serial = serialLines(await readFile(vm.serialLog, 'utf8'));
      expect(serial.some((l) => MARKER.test(l))).toBe(false);
    } finally {
      await vm.stop();
    }
    const scripts = lab!.serve.records.slice(served).filter((r) => r.event === 'boot_script_served' && r.mac === BIOS_MAC);
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.every((r) => r.action === 'local')).toBe(true);
    expect((await machine(BIOS_MAC)).action).toBe('local');
  });
});
