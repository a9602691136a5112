/**
 * Reliable multicast at scale, on real sockets: one sender namespace and
 * 200 receiver namespaces on one bridge, every receiver a process of its
 * own. All must end with the source's exact bytes and be counted done,
 * none dropped: the sender must keep up with two hundred receivers' reports
 * (its control socket's buffer, the receivers' patient DONE) while the
 * machine's two cores are shared by 201 processes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverReport, SenderReport } from '../../src/mcast/index.ts';
import { createMcastLab, type McastLab, RECEIVER_SCRIPT, runJson, SENDER_SCRIPT } from '../helpers/mcast-lab.ts';

const RECEIVERS = 200;
const SIZE = 4 << 20;

type ReceiverResult = ReceiverReport & { ok: boolean; error?: string; sha256: string; streamed: number };
type SenderResult = SenderReport & { ok: boolean; error?: string };

describe('multicast to two hundred receivers', () => {
  let lab: McastLab;
  let dir: string;
  let source: string;
  let digest: string;
  const keyHex = randomBytes(32).toString('hex');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trowel-mcast-scale-'));
    source = join(dir, 'stream.zst');
    const bytes = randomBytes(SIZE);
    await writeFile(source, bytes);
    digest = createHash('sha256').update(bytes).digest('hex');
    lab = await createMcastLab(RECEIVERS, { net: 234 });
  }, 300_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`delivers byte-identical files to all ${RECEIVERS}, each counted done`, async () => {
    const ep = { group: '239.255.84.9', port: 21000, sessionId: 9, keyHex };
    const receivers = lab.receivers.map((r, i) =>
      runJson<ReceiverResult>(r.ns, RECEIVER_SCRIPT, { ...ep, interfaceAddress: r.address, spoolFile: join(dir, `r${i}`), timeoutMs: 240_000 }));
    await Promise.all(receivers.map((r) => r.printed('READY', 240_000)));
    const sender = runJson<SenderResult>(lab.sender, SENDER_SCRIPT, {
      ...ep, interfaceAddress: lab.senderAddress, file: source, rateBitsPerSecond: 300e6, minReceivers: RECEIVERS, maxWaitMs: 180_000,
    });
    const sent = await sender.result;
    expect(sent.ok, sent.error).toBe(true);
    expect(sent.receivers.filter((r) => r.state === 'done')).toHaveLength(RECEIVERS);
    for (const [i, r] of receivers.entries()) {
      const result = await r.result;
      expect(result.ok, `receiver ${i}: ${result.error}`).toBe(true);
      expect(result.sha256).toBe(digest);
      expect(result.streamed).toBe(SIZE);
      expect(createHash('sha256').update(await readFile(join(dir, `r${i}`))).digest('hex')).toBe(digest);
    }
  }, 600_000);
});
