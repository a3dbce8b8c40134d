// The `normsoftmax` command line.
import { Command, CommanderError } from 'commander';
import { register as registerInfo } from './commands/info.js';
import { register as registerSelfCheck } from './commands/selfcheck.js';
import { reportError } from './errors.js';

const program = new Command('normsoftmax')
  .description('Train, evaluate and serve NormSoftmax image embedders on libtorch')
  .showHelpAfterError()
  .exitOverride();

for (const register of [registerInfo, registerSelfCheck]) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  process.exit(reportError(e));
}
