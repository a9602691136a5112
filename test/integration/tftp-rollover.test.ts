/**
 * A 100 MiB file at 512-byte blocks is 204,800 blocks: the 16-bit block
 * number wraps past 65535 three times. curl and tftp-hpa must both receive
 * it byte-identical.
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTftpLab, SERVER_ADDRESS, sha256File, type TftpLab } from '../helpers/tftp-lab.ts';

const SIZE = 100 * 1024 * 1024;

describe('TFTP block number rollover', () => {
  let lab: TftpLab;
  let sum: string;

  beforeAll(async () => {
    lab = await createTftpLab();
    const file = await open(join(lab.root, 'big.img'), 'w');
    try {
      const chunk = randomBytes(1024 * 1024);
      // Vary each MiB so a block delivered at the wrong offset cannot go unnoticed.
      for (let i = 0; i < SIZE / chunk.length; i++) {
        chunk.writeUInt32BE(i, 0);
        await file.write(chunk);
      }
    } finally {
      await file.close();
    }
    sum = await sha256File(join(lab.root, 'big.img'));
    await lab.startServer();
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('curl gets 100 MiB at blksize 512 byte-identical', async () => {
    await lab.client.exec('curl', ['-sS', '--tftp-blksize', '512', '-o', 'big-curl', `tftp://${SERVER_ADDRESS}/big.img`], { cwd: lab.work, timeoutMs: 120_000 });
    expect(await sha256File(join(lab.work, 'big-curl'))).toBe(sum);
    const end = lab.logs.find((r) => r.event === 'tftp.transfer_end' && r.file === 'big.img');
    expect(end).toMatchObject({ result: 'ok', bytes: SIZE });
    const start = lab.logs.find((r) => r.event === 'tftp.transfer_start' && r.file === 'big.img');
    expect(start).toMatchObject({ blksize: 512, windowsize: 1 });
  });

  it('tftp-hpa (no options: plain RFC 1350) gets it byte-identical too', async () => {
    const r = await lab.client.exec('tftp', ['-v', '-m', 'binary', SERVER_ADDRESS, '-c', 'get', 'big.img', 'big-hpa'], { cwd: lab.work, timeoutMs: 120_000 });
    expect(r.stdout).toMatch(new RegExp(`Received ${SIZE} bytes`));
    expect(await sha256File(join(lab.work, 'big-hpa'))).toBe(sum);
  });
});
