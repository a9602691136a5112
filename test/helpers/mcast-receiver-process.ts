/**
 * One receiver for the integration tests, run inside a receiver namespace:
 * receiveFile() with the options given as JSON in argv[2], reading the
 * in-order `readable` into a sha-256 as a real consumer would. With
 * `fetchFrom`, fetchRange reads that file (as HTTP Range would). Prints
 * one JSON line: the report plus the digest, or the error.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createLogger } from '../../src/log/logger.ts';
import { receiveFile } from '../../src/mcast/index.ts';

interface Config {
  group: string;
  port: number;
  interfaceAddress: string;
  sessionId: number;
  keyHex: string;
  spoolFile: string;
  fetchFrom?: string;
  timeoutMs?: number;
  receiveBufferBytes?: number;
  receiverId?: number;
  readDirectly?: boolean;
}

const config = JSON.parse(process.argv[2]!) as Config;
const log = createLogger('mcast-rx', (r) => process.stderr.write(JSON.stringify(r) + '\n'));
const receive = receiveFile({
  group: config.group,
  port: config.port,
  interfaceAddress: config.interfaceAddress,
  sessionId: config.sessionId,
  key: Buffer.from(config.keyHex, 'hex'),
  spoolFile: config.spoolFile,
  timeoutMs: config.timeoutMs ?? 30_000,
  receiveBufferBytes: config.receiveBufferBytes,
  receiverId: config.receiverId,
  readDirectly: config.readDirectly,
  log,
  fetchRange: config.fetchFrom
    ? (start, end) => Promise.resolve(createReadStream(config.fetchFrom!, { start, end: end - 1 }))
    : undefined,
});
const hash = createHash('sha256');
let streamed = 0;
const streamDone = (async () => {
  for await (const chunk of receive.readable) {
    hash.update(chunk as Buffer);
    streamed += (chunk as Buffer).length;
  }
})();
process.stdout.write('READY\n');
try {
  const report = await receive.done;
  await streamDone;
  const cpu = process.cpuUsage();
  process.stdout.write(JSON.stringify({ ok: true, ...report, streamed, sha256: hash.digest('hex'), cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: (e as Error).message, code: (e as { code?: string }).code }) + '\n');
  process.exitCode = 1;
}
