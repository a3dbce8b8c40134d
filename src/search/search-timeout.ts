// A search that ran past its time limit (the server's --timeout-ms): the server answers 503 with Retry-After.
import { FailureError } from '../util/errors.js';

export class SearchTimeoutError extends FailureError {
  override name = 'SearchTimeoutError';
  override readonly httpStatus = 503;
}
