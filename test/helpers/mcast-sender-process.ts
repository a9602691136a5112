/**
 * The sender for the integration tests, run inside the sender namespace:
 * sendFile() with the options given as JSON in argv[2] (key in hex).
 * Prints the stats phase changes as STATS lines and one final JSON line: the
 * report, or the error.
 */
import { createLogger } from '../../src/log/logger.ts';
import { sendFile, type SenderOptions } from '../../src/mcast/index.ts';

type Config = Omit<SenderOptions, 'key' | 'log' | 'signal' | 'onStats'> & { keyHex: string };

const config = JSON.parse(process.argv[2]!) as Config;
const log = createLogger('mcast-tx', (r) => process.stderr.write(JSON.stringify(r) + '\n'));
let phase = '';
try {
  const report = await sendFile({
    ...config,
    key: Buffer.from(config.keyHex, 'hex'),
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
