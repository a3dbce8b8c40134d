// Errors meant for the person at the terminal: printed as one line, without a stack trace.
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Prints an error as one line and returns the exit code to use. Stacks only with NORMSOFTMAX_DEBUG=1. */
export function reportError(e: unknown): number {
  if (process.env.NORMSOFTMAX_DEBUG === '1' && e instanceof Error) console.error(e.stack);
  const message = e instanceof Error ? e.message : String(e);
  const firstLine = message.split('\n')[0] ?? message;
  console.error(`normsoftmax: ${firstLine}`);
  return e instanceof UserError ? e.exitCode : 1;
}
