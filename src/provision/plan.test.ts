import { describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { parseCmdline } from './cmdline.ts';
import { defaultHostname, mergePlan, validateHostname } from './plan.ts';

const defaults = { arch: 'x86_64' as const, mac: '52:54:00:00:00:01' };
const kernel = (cmdline: string) => parseCmdline(cmdline).args;

function thrown(f: () => unknown): TrowelError {
  try {
    f();
  } catch (e) {
    if (e instanceof TrowelError) return e;
    throw e;
  }
  throw new Error('expected a TrowelError');
}

describe('mergePlan', () => {
  it('fills what the server plan leaves out with defaults', () => {
    expect(mergePlan({ template: 'org.example.Demo' }, {}, defaults)).toEqual({
      template: 'org.example.Demo', arch: 'x86_64', version: 'latest', disk: 'auto', layout: 'auto', wipe: false,
      hostname: 'trowel-525400000001', mode: 'unattended', transport: 'http',
      sources: { template: 'server', arch: 'default', version: 'default', disk: 'default', layout: 'default', wipe: 'default', hostname: 'default', mode: 'default' },
    });
  });

  it('lets kernel arguments win field by field over the server plan', () => {
    const server = { template: 'org.example.Demo', version: '20261122T023710Z', disk: '/dev/sda', layout: 'mbr', wipe: false, hostname: 'from-server', mode: 'tui' };
    const plan = mergePlan(server, kernel('trowel.disk=/dev/vda trowel.wipe=1 trowel.hostname=web-01'), defaults);
    expect(plan).toMatchObject({
      template: 'org.example.Demo', version: '20261122T023710Z', disk: '/dev/vda', layout: 'mbr', wipe: true, hostname: 'web-01', mode: 'tui',
    });
    expect(plan.sources).toMatchObject({ template: 'server', version: 'server', disk: 'kernel', layout: 'server', wipe: 'kernel', hostname: 'kernel', mode: 'server' });
  });

  it('lets trowel.wipe=0 take back a wipe the server plan allows', () => {
    expect(mergePlan({ template: 'org.example.Demo', wipe: true }, kernel('trowel.wipe=0'), defaults).wipe).toBe(false);
  });

  it('works from kernel arguments alone when the server has no plan', () => {
    const plan = mergePlan(null, kernel('trowel.template=org.example.Demo trowel.arch=aarch64 trowel.layout=keep'), defaults);
    expect(plan).toMatchObject({ template: 'org.example.Demo', arch: 'aarch64', layout: 'keep' });
  });

  it('refuses without a template, saying where one comes from', () => {
    const e = thrown(() => mergePlan(null, {}, defaults));
    expect(e.code).toBe('ENOPLAN');
    expect(e.message).toBe('Cannot provision 52:54:00:00:00:01: no template is set');
    expect(e.hint).toMatch(/trowel machines set-plan/);
  });

  it('checks what the server sent as strictly as kernel arguments', () => {
    expect(thrown(() => mergePlan({ template: 'Demo' }, {}, defaults)).code).toBe('EBADNAME');
    expect(thrown(() => mergePlan({ template: 'org.example.Demo', version: 'yesterday' }, {}, defaults)).code).toBe('EBADVERSION');
    expect(thrown(() => mergePlan({ template: 'org.example.Demo', layout: 'zfs' }, {}, defaults)).message)
      .toBe('Cannot use the plan\'s layout "zfs": it must be one of auto, gpt-uefi, gpt-bios, mbr, keep, free');
    expect(thrown(() => mergePlan({ template: 'org.example.Demo', wipe: 'yes' as unknown as boolean }, {}, defaults)).code).toBe('EBADPLAN');
    expect(thrown(() => mergePlan({ template: 'org.example.Demo', hostname: 'bad_name' }, {}, defaults)).code).toBe('EBADHOSTNAME');
  });
});

describe('hostnames', () => {
  it('derives a default from the MAC', () => {
    expect(defaultHostname('52:54:00:AB:cd:01')).toBe('trowel-525400abcd01');
    expect(defaultHostname(undefined)).toBe('trowel');
  });
  it('accepts RFC 1123 names and refuses others', () => {
    expect(validateHostname('web-01.example.org')).toBe('web-01.example.org');
    for (const bad of ['-web', 'web-', 'a..b', 'a b', 'x'.repeat(64), '']) expect(() => validateHostname(bad), bad).toThrow(TrowelError);
  });
});
