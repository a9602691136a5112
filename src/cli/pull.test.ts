import { describe, expect, it } from 'vitest';
import { pullCommand } from './pull.ts';
import type { ProgressIo } from './template-receive.ts';

function captureIo(): ProgressIo & { out: string; err: string } {
  const io = { out: '', err: '', env: {}, stderrIsTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

describe('pullCommand', () => {
  it('prints its usage for --help', async () => {
    const io = captureIo();
    expect(await pullCommand(['--help'], io)).toBe(0);
    expect(io.out).toMatch(/^usage: trowel pull --from URL \(--key FILE \| --key-base64 B64\)/);
  });

  it('answers usage errors with exit 2 before touching a pool or the network', async () => {
    const cases: [string[], string][] = [
      [['--key', 'k'], 'missing --from URL'],
      [['--from', 'nope', '--key', 'k'], '--from must be an http:// URL, not "nope"'],
      [['--from', 'http://x'], "give the server's public key with exactly one of --key FILE or --key-base64 B64"],
      [['--from', 'http://x', '--key', 'k', '--pool', '/a', '--state-dir', '/b'], 'give --pool or --state-dir, not both'],
      [['--from', 'http://x', '--key', 'k', 'extra'], 'unexpected argument "extra"'],
    ];
    for (const [argv, message] of cases) {
      const io = captureIo();
      expect(await pullCommand(argv, io)).toBe(2);
      expect(io.err.split('\n')[0]).toBe(`trowel pull: ${message}`);
    }
  });

  it('refuses a bad template name or arch with one line', async () => {
    const key = ['--key-base64', 'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE='];
    const io = captureIo();
    expect(await pullCommand(['--from', 'http://127.0.0.1:9', ...key, '--name', 'Bad'], io)).toBe(1);
    expect(io.err).toMatch(/^trowel: Cannot use template name "Bad": /);
    const io2 = captureIo();
    expect(await pullCommand(['--from', 'http://127.0.0.1:9', ...key, '--arch', 'X86_64'], io2)).toBe(1);
    expect(io2.err).toBe('trowel: Cannot use arch "X86_64": it must be one of x86_64, aarch64 (did you mean x86_64?)\n');
  });
});
