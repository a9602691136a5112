import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, type Fixture } from '../test-fixture.ts';

let f: Fixture;
afterEach(() => f?.cleanup());

describe('GET /boot/ipxe', () => {
  it('registers an unknown machine and serves its discover script with its token', async () => {
    f = makeFixture();
    const res = await f.get('/boot/ipxe?mac=52-54-00-AB-CD-01');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const machine = f.machines.get('52:54:00:ab:cd:01');
    expect(machine).toBeDefined();
    expect(await res.text()).toBe(
      '#!ipxe\n' +
        'kernel http://10.0.0.1:8080/boot/files/trowel/vmlinuz initrd=initramfs.img trowel.server=http://10.0.0.1:8080 ' +
        `trowel.mac=52:54:00:ab:cd:01 trowel.token=${machine!.token} trowel.action=discover console=ttyS0\n` +
        'initrd http://10.0.0.1:8080/boot/files/trowel/initramfs.img\n' +
        'boot\n',
    );
    expect(f.logs.find((r) => r.event === 'boot_script_served')).toMatchObject({ mac: '52:54:00:ab:cd:01', action: 'discover' });
  });

  it('keeps a known machine, refreshes its last-seen time and follows its action', async () => {
    f = makeFixture();
    const before = f.machines.recordContact({ mac: '52:54:00:00:00:02', arch: 7 });
    f.machines.setAction(before.mac, 'local');
    f.clock.now += 60_000;
    const res = await f.get('/boot/ipxe?mac=52:54:00:00:00:02');
    const script = await res.text();
    expect(script).toContain('sanboot --no-describe --drive 0x80');
    expect(script).not.toContain(before.token);
    expect(f.machines.get(before.mac)).toMatchObject({ arch: 7, token: before.token, lastSeen: before.lastSeen + 60_000 });
  });

  it('answers a missing or invalid mac with a 200 error script, logged with the peer', async () => {
    f = makeFixture();
    for (const [query, shown] of [
      ['', 'the script URL has no ?mac= parameter'],
      ['?mac=${net0/mac}', '??net0/mac? is not a MAC address'],
      ['?mac=52:54:00', '52:54:00 is not a MAC address'],
    ] as const) {
      const res = await f.get(`/boot/ipxe${query}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-trowel-error')).toBe('invalid_mac');
      expect(await res.text()).toBe(`#!ipxe\necho trowel: cannot serve a boot script: ${shown}\nsleep 10\nexit\n`);
    }
    expect(f.logs.filter((r) => r.event === 'boot_script_refused')).toHaveLength(3);
    expect(f.logs.find((r) => r.event === 'boot_script_refused')).toMatchObject({ level: 'warn', peer: 'in-process' });
    expect(f.machines.list()).toEqual([]);
  });

  it('writes the port the app was given into the script', async () => {
    f = makeFixture();
    const { createHttpApp } = await import('../app.ts');
    const app = createHttpApp({ ...f.options, port: 8123 });
    const script = await (await app.fetch(new Request('http://x/boot/ipxe?mac=52:54:00:00:00:03'))).text();
    expect(script).toContain('kernel http://10.0.0.1:8123/boot/files/trowel/vmlinuz ');
    expect(script).toContain(' trowel.server=http://10.0.0.1:8123 ');
  });
});

describe('GET /boot/ipxe for a machine with a plan', () => {
  it('asks the PXE image to run unattended, or the console when the plan says tui', async () => {
    const fx = makeFixture();
    try {
      fx.machines.recordContact({ mac: '52:54:00:00:00:0a' });
      fx.machines.setPlan('52:54:00:00:00:0a', { template: 'org.example.Desktop' });
      fx.machines.setAction('52:54:00:00:00:0a', 'provision');
      expect(await (await fx.get('/boot/ipxe?mac=52:54:00:00:00:0a')).text()).toContain('trowel.action=provision trowel.mode=unattended ');
      fx.machines.setPlan('52:54:00:00:00:0a', { template: 'org.example.Desktop', mode: 'tui' });
      expect(await (await fx.get('/boot/ipxe?mac=52:54:00:00:00:0a')).text()).toContain('trowel.mode=tui ');
    } finally {
      fx.cleanup();
    }
  });
});
