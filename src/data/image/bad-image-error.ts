// A sample whose pixels cannot be produced: missing, unreadable, corrupt or unusable file.
import { InputError } from '../../util/errors.js';

export { firstLine } from '../../util/errors.js';

export class BadImageError extends InputError {
  override name = 'BadImageError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}
