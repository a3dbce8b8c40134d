// The `normsoftmax` command line: builds the program with the command named on the command line
// (command-table.ts loads only that one), runs it, and reports any error as one line with its exit code.
import { CommanderError } from 'commander';
import { EXIT_FAILURE, EXIT_USAGE } from '../util/errors.js';
import { buildProgram } from './command-table.js';
import { reportError } from './report-error.js';

/** Commander's own errors (unknown option, missing argument) are usage errors; help and version are not. */
function commanderExitCode(e: CommanderError): number {
  if (e.exitCode === 0) return 0;
  return e.code.startsWith('commander.') ? EXIT_USAGE : e.exitCode;
}

async function main(): Promise<void> {
  // A reader that stops early (`normsoftmax index info IDX | head`) closes our stdout: that is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
  let settled = false;
  // If the event loop empties while the command's promise is still pending (a promise nobody will ever
  // resolve), Node would exit with code 13 and print nothing useful: report it as one line instead.
  process.on('beforeExit', () => {
    if (settled) return;
    settled = true;
    console.error('normsoftmax: internal error: the command stopped before it finished (an operation never completed)');
    process.exit(EXIT_FAILURE);
  });
  try {
    const program = await buildProgram(process.argv.slice(2));
    await program.parseAsync(process.argv);
    settled = true;
  } catch (e) {
    settled = true;
    process.exit(e instanceof CommanderError ? commanderExitCode(e) : reportError(e));
  }
}

await main();
