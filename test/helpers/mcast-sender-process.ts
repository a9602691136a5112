/**
 * The sender for the integration tests, run inside the sender namespace:
 * sendFile() with the options given as JSON in argv[2] (key in hex).
 * Prints the stats phase changes as PHASE lines and one final JSON line: the
 * report, or the error. With `teeFrom`, `file` is written from that file a
 * MiB every 20 ms while the session runs (tee mode: availableBytes grows).
 */
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { createLogger } from '../../src/log/logger.ts';
import { sendFile, type SenderOptions } from '../../src/mcast/index.ts';

type Config = Omit<SenderOptions, 'key' | 'log' | 'signal' | 'onStats' | 'availableBytes'> & { keyHex: string; teeFrom?: string };

const config = JSON.parse(process.argv[2]!) as Config;
let written = 0;
if (config.teeFrom) {
  const total = statSync(config.teeFrom).size;
  const from = openSync(config.teeFrom, 'r');
  const to = openSync(config.file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  config.totalBytes = total;
  const timer = setInterval(() => {
    const n = readSync(from, chunk, 0, chunk.length, written);
    writeSync(to, chunk, 0, n, written);
    written += n;
    if (written >= total) {
      clearInterval(timer);
      closeSync(from);
      closeSync(to);
    }
  }, 20);
}
const log = createLogger('mcast-tx', (r) => process.stderr.write(JSON.stringify(r) + '\n'));
let phase = '';
try {
  const report = await sendFile({
    ...config,
    key: Buffer.from(config.keyHex, 'hex'),
    availableBytes: config.teeFrom ? () => written : undefined,
    log,
    onStats: (s) => {
      if (s.phase !== phase) process.stdout.write(`PHASE ${(phase = s.phase)}\n`);
    },
  });
  const cpu = process.cpuUsage();
  process.stdout.write(JSON.stringify({ ok: true, ...report, cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: (e as Error).message, code: (e as { code?: string }).code }) + '\n');
  process.exitCode = 1;
}
