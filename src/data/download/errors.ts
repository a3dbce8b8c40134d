// Download failures (network, HTTP status, checksum, unpacking): one line saying what failed and what to do.
import { FailureError } from '../../util/errors.js';

export class DownloadError extends FailureError {
  override name = 'DownloadError';
}
