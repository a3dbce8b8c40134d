// The error types every layer throws for things a person must act on. Each carries its exit code, so
// every command follows one rule (README, "Exit codes"):
//   0  success
//   1  failure: the work could not be done (training diverged, a download failed, an internal error)
//   2  usage: a flag or argument is missing, unknown, or has a value of the wrong kind
//   3  bad input: a file or data set the user pointed at is missing, unreadable or malformed
//   130 / 143  stopped by SIGINT / SIGTERM
// Only the CLI reports them (src/cli/report-error.ts): one line, no stack unless NORMSOFTMAX_DEBUG=1.
// Each also carries the HTTP status a service answers it with (src/search/server/error-answer.ts): 400 for
// usage and input errors (the client's to fix), 500 for a failure (the service's own fault), 503 for a
// failure the client may retry after a while (a worker restarting, a search past its time limit).

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INPUT = 3;

/** The base of the errors meant for a person: the message is one line that says what to do. */
export abstract class NormsoftmaxError extends Error {
  abstract readonly exitCode: number;
  /** 4xx: the client's mistake; 5xx: the service's own fault (503: come back later). */
  abstract readonly httpStatus: number;
}

/** A flag or argument is missing, unknown, or has a value of the wrong kind. Name the flag. */
export class UsageError extends NormsoftmaxError {
  override name = 'UsageError';
  readonly exitCode = EXIT_USAGE;
  readonly httpStatus: number = 400;
}

/** A file, folder or data set the user gave is missing, unreadable or malformed. Name it. */
export class InputError extends NormsoftmaxError {
  override name = 'InputError';
  readonly exitCode = EXIT_INPUT;
  readonly httpStatus: number = 400;
}

/** The work could not be done for a reason other than the input: say what failed and what to try. */
export class FailureError extends NormsoftmaxError {
  override name = 'FailureError';
  readonly exitCode = EXIT_FAILURE;
  readonly httpStatus: number = 500;
}

/** A file we cannot read: one line naming the file (`source`) and what is wrong with it (`problem`). */
export class FormatError extends InputError {
  override name = 'FormatError';
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
  }
}

/** The first line of an error's message, for one-line reports. */
export function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return (message.split('\n')[0] ?? message).trim();
}
