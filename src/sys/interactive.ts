/**
 * Runs a program on this terminal (a shell for the technician): it gets the
 * console's stdin, stdout and stderr, so nothing is captured, unlike run.ts.
 * The caller hands the terminal over first (the console suspends its screen).
 */
import { spawn } from 'node:child_process';
import { TrowelError } from '../errors.ts';

/** Resolves with the exit status (128 + signal number style: null becomes 1). */
export function runInteractive(command: string, args: readonly string[] = [], options: { env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env: options.env ?? process.env });
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(new TrowelError('ECOMMAND', `Cannot run ${command}: ${e.code === 'ENOENT' ? `${command} is not installed` : e.message}`, { cause: e }));
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}
