/**
 * The only way trowel runs external programs. Captures stdout and stderr,
 * and turns a failure into a {@link CommandError} that names the command,
 * its exit status and the last lines of its stderr.
 */
import { spawn } from 'node:child_process';
import { TrowelError } from '../errors.ts';

export class CommandError extends TrowelError {
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(command: string, exitCode: number | null, signal: string | null, stderr: string) {
    const tail = stderr.trim().split('\n').slice(-3).join(' | ');
    const status = signal ? `killed by ${signal}` : `exit status ${exitCode}`;
    super('ECOMMAND', `Cannot run ${command}: ${status}${tail ? `: ${tail}` : ''}`);
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export interface RunOptions {
  input?: string | Buffer;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Exit codes treated as success (default [0]). */
  okCodes?: number[];
  /** Sees each chunk of output as it arrives (progress from long-running tools); output is still captured. */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const display = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      options.onOutput?.(d.toString('utf8'), 'stdout');
    });
    child.stderr.on('data', (d: Buffer) => {
      err.push(d);
      options.onOutput?.(d.toString('utf8'), 'stderr');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(new TrowelError('ECOMMAND', `Cannot run ${display}: ${e.code === 'ENOENT' ? `${command} is not installed` : e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code !== null && (options.okCodes ?? [0]).includes(code)) resolve({ stdout, stderr, exitCode: code });
      else reject(new CommandError(display, code, signal, stderr));
    });
    child.stdin.on('error', () => {}); // a child that exits early closes stdin; its exit status tells the story
    child.stdin.end(options.input);
  });
}
