/**
 * The one error type a user can meet. It carries a stable `code` (for
 * scripts and tests), a one-sentence message of the form
 * "Cannot <action>: <state>", and an optional `hint` saying what to do.
 * The CLI prints `message` and `hint`, never a stack trace.
 */
export class TrowelError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TrowelError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** One line for a human: message plus hint, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof TrowelError) return err.hint ? `${err.message} (${err.hint})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
