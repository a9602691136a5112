/**
 * Transfers over a lossy link: 5% of packets dropped at random by nftables
 * (this kernel has no netem), first on the client's side, then on both
 * sides. Every client must still end up with a byte-identical file.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropIncoming } from '../../src/lab/netns.ts';
import { createTftpLab, SERVER_ADDRESS, sha256File, type TftpLab } from '../helpers/tftp-lab.ts';

describe('TFTP over a lossy link', () => {
  let lab: TftpLab;
  const sums: Record<string, string> = {};

  beforeAll(async () => {
    lab = await createTftpLab();
    // Lock-step files stay near 60-70 blocks: every lost packet costs a 1 s server timeout.
    for (const [name, size] of [['windowed.bin', 400_000], ['lockstep.bin', 30_000], ['curl.bin', 100_000]] as const) {
      await writeFile(join(lab.root, name), randomBytes(size));
      sums[name] = await sha256File(join(lab.root, name));
    }
    await lab.startServer();
  });
  afterAll(async () => {
    await lab?.stop();
  });

  /** Runs atftp (windowed), tftp-hpa and curl at once and checks every file. */
  async function transferAll(tag: string): Promise<void> {
    const opts = { cwd: lab.work, timeoutMs: 90_000 };
    await Promise.all([
      lab.client.exec('atftp', ['--option', 'blksize 1468', '--option', 'windowsize 16', '-g', '-r', 'windowed.bin', '-l', `${tag}-atftp`, SERVER_ADDRESS], opts),
      lab.client.exec('tftp', ['-m', 'binary', SERVER_ADDRESS, '-c', 'get', 'lockstep.bin', `${tag}-hpa`], opts),
      // curl asks for "timeout" = connect timeout / retries (6 s by default), and the server
      // honours it (RFC 2349), so each lost DATA would stall 6 s; 3 s makes curl ask for 1 s.
      lab.client.exec('curl', ['-sS', '--connect-timeout', '3', '--tftp-blksize', '1468', '-o', `${tag}-curl`, `tftp://${SERVER_ADDRESS}/curl.bin`], opts),
    ]);
    expect(await sha256File(join(lab.work, `${tag}-atftp`))).toBe(sums['windowed.bin']);
    expect(await sha256File(join(lab.work, `${tag}-hpa`))).toBe(sums['lockstep.bin']);
    expect(await sha256File(join(lab.work, `${tag}-curl`))).toBe(sums['curl.bin']);
  }

  const retransmits = () => lab.logs.filter((r) => r.event === 'tftp.retransmit').length;

  it('delivers byte-identical files with 5% loss in the client namespace', async () => {
    await dropIncoming(lab.client, 5);
    await transferAll('client-loss');
    expect(retransmits()).toBeGreaterThan(0); // the loss was real and the server recovered from it
  });

  it('delivers byte-identical files with 5% loss in both namespaces', async () => {
    const before = retransmits();
    await dropIncoming(lab.server, 5);
    await transferAll('both-loss');
    expect(retransmits()).toBeGreaterThan(before);
  });
});
