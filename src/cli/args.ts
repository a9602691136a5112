/**
 * node:util parseArgs with trowel's conventions: a usage error is a
 * TrowelError with code EUSAGE (exit 2), and `--help` prints the command's help.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TrowelError } from '../errors.ts';

export class UsageError extends TrowelError {
  constructor(message: string, usageText: string) {
    super('EUSAGE', message, { hint: usageText });
  }
}

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usageText: string,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message, usageText);
  }
}
