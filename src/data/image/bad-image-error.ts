// A sample whose pixels cannot be produced: missing, unreadable, corrupt or unusable file.
import { UserError } from '../../cli/errors.js';

export class BadImageError extends UserError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'BadImageError';
  }
}

/** The first line of an error's message, for one-line reports. */
export function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return (message.split('\n')[0] ?? message).trim();
}
