import { describe, expect, it } from 'vitest';
import { BOOT, request } from '../../test/helpers/dhcp-requests.ts';
import { createLogger, LogLevel, type LogRecord } from '../log/logger.ts';
import { bootModifier } from './boot-options.ts';
import { describeBootClient } from './pxe.ts';

describe('bootModifier for a machine whose boot action is local', () => {
  const logs: LogRecord[] = [];
  const log = createLogger('dhcp', (r) => logs.push(r), LogLevel.debug);
  const local = { ...BOOT, netboot: () => false };

  it('gives the firmware PXE client no boot file, so it boots its disk, and says so', () => {
    const req = request('edk2-uefi-discover');
    expect(bootModifier(req, describeBootClient(req.packet), local, log)).toBeUndefined();
    expect(logs.at(-1)).toMatchObject({ event: 'dhcp.boot_local', mac: req.mac });
    expect(bootModifier(req, describeBootClient(req.packet), BOOT, log)).toBeDefined();
  });

  it('still gives iPXE its script URL (the script itself says boot local)', () => {
    const req = request('ipxe-bios-discover');
    expect(bootModifier(req, describeBootClient(req.packet), local, log)).toBeDefined();
  });
});
