// The one error type for files we cannot read: a single line naming the file and what is wrong with it.
import { UserError } from '../cli/errors.js';

export class FormatError extends UserError {
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
    this.name = 'FormatError';
  }
}
