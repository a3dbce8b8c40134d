// `normsoftmax selfcheck`: a quick end-to-end check of the engine (autograd, SGD, memory).
import type { Command } from 'commander';
import { F, manualSeed, memory, noGrad, randint, randn, scope, zeros } from '../../tensor/index.js';

export function selfCheck(log: (line: string) => void = console.log): { loss0: number; loss1: number } {
  manualSeed(0);
  const inputs = randn([256, 16]);
  const labels = randint(0, 4, [256]);
  const truth = randn([16, 4]);
  const targets = scope(() => inputs.matmul(truth).argmax(1));
  const w = zeros([16, 4]).requiresGrad_();
  const lossAt = () => scope(() => F.crossEntropy(inputs.matmul(w), targets).item());
  const loss0 = lossAt();
  for (let step = 0; step < 100; step++) {
    scope(() => {
      F.crossEntropy(inputs.matmul(w), targets).backward();
      noGrad(() => w.sub_(w.grad!, 0.5));
      w.zeroGrad();
    });
  }
  const loss1 = lossAt();
  log(`softmax regression: loss ${loss0.toFixed(4)} -> ${loss1.toFixed(4)}`);
  log(`live tensors: ${memory().liveTensors}`);
  for (const t of [inputs, labels, truth, targets, w]) t.dispose();
  if (!(loss1 < loss0 * 0.5)) throw new Error('self-check failed: the loss did not fall');
  return { loss0, loss1 };
}

export function register(program: Command): void {
  program
    .command('selfcheck')
    .description('check that the engine trains a small model (autograd, SGD, memory)')
    .action(() => {
      selfCheck();
      console.log('self-check passed');
    });
}
