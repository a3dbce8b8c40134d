// The `normsoftmax` command line.
import { Command, CommanderError } from 'commander';
import { register as registerData } from './commands/data.js';
import { register as registerDemo } from './commands/demo.js';
import { register as registerEmbed } from './commands/embed.js';
import { register as registerEval } from './commands/eval.js';
import { register as registerInfo } from './commands/info.js';
import { register as registerSelfCheck } from './commands/selfcheck.js';
import { register as registerTrain } from './commands/train.js';
import { reportError } from './errors.js';

const program = new Command('normsoftmax')
  .description('Train, evaluate and serve NormSoftmax image embedders on libtorch')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

for (const register of [registerInfo, registerSelfCheck]) register(program);
registerData(program);
registerDemo(program);
registerTrain(program);
registerEmbed(program);
registerEval(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  process.exit(reportError(e));
}
