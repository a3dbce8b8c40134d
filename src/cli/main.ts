// The `normsoftmax` command line.
import { Command, CommanderError } from 'commander';
import { EXIT_FAILURE, EXIT_USAGE } from '../util/errors.js';
import { register as registerData } from './commands/data.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerEmbed } from './commands/embed.js';
import { register as registerEval } from './commands/eval.js';
import { register as registerExperiment } from './commands/experiment.js';
import { register as registerExport } from './commands/export.js';
import { register as registerIndex } from './commands/index-cmd.js';
import { register as registerInfo } from './commands/info.js';
import { register as registerSearch } from './commands/search.js';
import { register as registerSelfCheck } from './commands/selfcheck.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerTrain } from './commands/train.js';
import { register as registerWeights } from './commands/weights.js';
import { reportError } from './report-error.js';

const program = new Command('normsoftmax')
  .description('Train, evaluate and serve NormSoftmax image embedders on libtorch')
  // Commander's own errors (unknown option, missing argument) as one line, like every other error.
  .configureOutput({
    outputError: (message, write) =>
      write(`normsoftmax: ${message.trim().replace(/^error: /, '')} (add --help for usage)\n`),
  })
  .exitOverride();

for (const register of [registerInfo, registerSelfCheck]) register(program);
registerData(program);
registerDemo(program);
registerTrain(program);
registerEmbed(program);
registerEval(program);
registerExport(program);
registerIndex(program);
registerSearch(program);
registerServe(program);
registerWeights(program);
registerExperiment(program);

/** Commander's own errors (unknown option, missing argument) are usage errors; help and version are not. */
function commanderExitCode(e: CommanderError): number {
  if (e.exitCode === 0) return 0;
  return e.code.startsWith('commander.') ? EXIT_USAGE : e.exitCode;
}

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

program
  .parseAsync(process.argv)
  .then(() => {
    settled = true;
  })
  .catch((e: unknown) => {
    settled = true;
    process.exit(e instanceof CommanderError ? commanderExitCode(e) : reportError(e));
  });
