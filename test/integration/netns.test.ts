import { afterAll, describe, expect, it } from 'vitest';
import { connect, dropIncoming, Netns } from '../../src/lab/netns.ts';

describe('Netns lab helpers', () => {
  const made: Netns[] = [];
  afterAll(async () => {
    for (const ns of made) await ns.destroy();
  });

  it('connects two namespaces that can ping each other, and drops all with 100% loss', async () => {
    const a = await Netns.create();
    const b = await Netns.create();
    made.push(a, b);
    await connect(a, 'eth0', '10.77.0.1/24', b, 'eth0', '10.77.0.2/24');
    const ok = await a.exec('ping', ['-c', '1', '-W', '2', '10.77.0.2']);
    expect(ok.stdout).toContain('1 received');
    await dropIncoming(b, 100);
    await expect(a.exec('ping', ['-c', '1', '-W', '1', '10.77.0.2'])).rejects.toThrow(/exit status 1/);
  });
});
