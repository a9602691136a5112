/**
 * The zstd command line as the receiving client's decompressor: `zstd -dc`
 * decompresses about 1.7x faster than node:zlib's zstd on the same stream
 * (bench/results/templates.md, codec table) and runs in its own process,
 * so neither the decompression nor the decompressed bytes pass through
 * Node: zstd's output goes through `tail -c +N` (which drops the first
 * N-1 bytes, already written by the caller) into another child's stdin.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { CommandError, run } from './run.ts';

let available: Promise<boolean> | undefined;

/** True when a `zstd` command runs here (asked once per process). */
export function hasZstd(): Promise<boolean> {
  available ??= run('zstd', ['--version']).then(() => true, () => false);
  return available;
}

export interface ZstdPipe {
  /** The compressed bytes go here. */
  stdin: Writable;
  /** Resolves with the decompressed byte count (skipped bytes included) once zstd and tail exit 0. */
  done: Promise<number>;
  /** Stops both processes (after a failure elsewhere). */
  kill(): void;
}

/**
 * `zstd -d -c | tail -c +<skip+1>` writing into `into`, a child's stdin
 * pipe: the caller has already written the first `skip` decompressed bytes
 * itself (possibly changed). Takes over `into`: this process's end of that
 * pipe is closed, so the reader sees end-of-file when tail exits.
 */
export function decompressInto(into: Writable, skip: number): ZstdPipe {
  // -v: zstd reports the decompressed size on stderr when it is done (no progress: stderr is not a terminal).
  const zstd = spawn('zstd', ['-d', '-c', '-v'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const tail = spawn('tail', ['-c', `+${skip + 1}`], { stdio: [zstd.stdout, into, 'pipe'] });
  zstd.stdout.destroy();
  into.destroy();
  const exited = (child: typeof zstd | typeof tail, command: string) => {
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
    return new Promise<string>((resolve, reject) => {
      child.on('error', (e) => reject(new CommandError(command, null, null, e.message)));
      child.on('close', (code, signal) => (code === 0 ? resolve(stderr) : reject(new CommandError(command, code, signal, stderr))));
    });
  };
  const zstdDone = exited(zstd, 'zstd -d -c');
  const tailDone = exited(tail, `tail -c +${skip + 1}`);
  zstd.stdin.on('error', () => {}); // a zstd that exits early closes stdin; its exit status tells the story
  const done = Promise.allSettled([zstdDone, tailDone]).then(([z, t]) => {
    if (z.status === 'rejected') throw z.reason;
    if (t.status === 'rejected') throw t.reason;
    return decompressedBytes(z.value);
  });
  return {
    stdin: zstd.stdin,
    done,
    kill: () => {
      for (const child of [zstd, tail]) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

/** The size `zstd -v` reports for what it decompressed ("/*stdin*\ : 667336710 bytes"; pure, exported for tests). */
export function decompressedBytes(stderr: string): number {
  const m = /:\s*(\d+) bytes\s*$/m.exec(stderr);
  if (!m) throw new CommandError('zstd -d -c', 0, null, `no decompressed size in its output: ${stderr.trim().slice(-200)}`);
  return Number(m[1]);
}

/** True when a zstd or tail failure is only the consequence of its reader going away (SIGPIPE, EPIPE). */
export function isBrokenPipeExit(e: unknown): boolean {
  return e instanceof CommandError && (/SIGPIPE/.test(e.message) || /broken pipe/i.test(e.stderr));
}
