// How the CLI tells a person that something went wrong: one line on stderr, no stack trace (unless
// NORMSOFTMAX_DEBUG=1), and the exit code of the rule in src/util/errors.ts.
import { isDiskFull } from '../io/disk-full.js';
import { EXIT_FAILURE, firstLine, NormsoftmaxError } from '../util/errors.js';

/** Prints an error as one line and returns the exit code to use. */
export function reportError(e: unknown): number {
  if (process.env.NORMSOFTMAX_DEBUG === '1' && e instanceof Error) console.error(e.stack);
  if (e instanceof NormsoftmaxError) {
    console.error(`normsoftmax: ${firstLine(e)}`);
    return e.exitCode;
  }
  // A full disk reported by a library (Lance's "No space left on device (os error 28)"), not ours to fix.
  if (isDiskFull(e) || /no space left on device/i.test(firstLine(e))) {
    console.error(`normsoftmax: no space left on device (${firstLine(e)}); free some space and run the command again`);
    return EXIT_FAILURE;
  }
  // Anything else is a fault of ours (or of libtorch) rather than of the input: say so.
  const hint = process.env.NORMSOFTMAX_DEBUG === '1' ? '' : ' (NORMSOFTMAX_DEBUG=1 shows the stack)';
  console.error(`normsoftmax: internal error: ${firstLine(e)}${hint}`);
  return EXIT_FAILURE;
}
