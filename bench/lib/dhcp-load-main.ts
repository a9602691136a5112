/**
 * Command-line entry of the DHCP load generator, run by bench/dhcp.ts inside
 * the client namespace (a process can't move its sockets into another
 * namespace, so the generator is its own process). Prints one JSON line:
 * the {@link DhcpLoadResult}.
 *
 *   node bench/lib/dhcp-load-main.ts --exchanges 10000 --window 32 [--target 255.255.255.255] ...
 */
import { parseArgs } from 'node:util';
import { runDhcpLoad } from './dhcp-load.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: '255.255.255.255' },
    'server-port': { type: 'string', default: '67' },
    bind: { type: 'string', default: '0.0.0.0' },
    'client-port': { type: 'string', default: '68' },
    exchanges: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '0' },
    window: { type: 'string', default: '32' },
    'timeout-ms': { type: 'string', default: '1000' },
    attempts: { type: 'string', default: '4' },
    'mac-base': { type: 'string', default: '0' },
  },
  strict: true,
});

function int(name: keyof typeof values): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`Cannot use --${name} ${values[name]}: give a whole number`);
  return n;
}

const result = await runDhcpLoad({
  target: values.target,
  serverPort: int('server-port'),
  bindAddress: values.bind,
  clientPort: int('client-port'),
  exchanges: int('exchanges'),
  warmup: int('warmup'),
  window: Math.max(1, int('window')),
  timeoutMs: Math.max(1, int('timeout-ms')),
  maxAttempts: Math.max(1, int('attempts')),
  macBase: int('mac-base'),
});
process.stdout.write(JSON.stringify(result) + '\n');
