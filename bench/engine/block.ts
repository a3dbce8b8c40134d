// Part (b): forward + backward of ResNet-18's layer1 shape without the residual add:
// conv2d(3x3, 64->64, pad 1, no bias) -> batch_norm(train) -> relu, twice, on [16, 64, 56, 56].
// reference.py builds the same block with torch.nn.functional.
import { F, manualSeed, ones, randn, scope, type Tensor, zeros } from '../../src/tensor/index.js';

export const BLOCK = { batch: 16, channels: 64, size: 56 } as const;

interface Stage {
  weight: Tensor;
  gamma: Tensor;
  beta: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
}

function stage(): Stage {
  const c = BLOCK.channels;
  return {
    weight: randn([c, c, 3, 3])
      .mul(Math.sqrt(2 / (9 * c)))
      .requiresGrad_(),
    gamma: ones([c]).requiresGrad_(),
    beta: zeros([c]).requiresGrad_(),
    runningMean: zeros([c]),
    runningVar: ones([c]),
  };
}

function forward(x: Tensor, s: Stage): Tensor {
  const y = F.conv2d(x, s.weight, null, { padding: 1 });
  const n = F.batchNorm(y, {
    weight: s.gamma,
    bias: s.beta,
    runningMean: s.runningMean,
    runningVar: s.runningVar,
    training: true,
  });
  return F.relu(n);
}

/** Returns one training step (clear grads, forward, backward); inputs and parameters are built once. */
export function prepareBlock(): () => void {
  manualSeed(0);
  const x = randn([BLOCK.batch, BLOCK.channels, BLOCK.size, BLOCK.size]).requiresGrad_();
  const stages = [stage(), stage()];
  const params = [x, ...stages.flatMap((s) => [s.weight, s.gamma, s.beta])];
  return () => {
    for (const p of params) p.zeroGrad();
    scope(() => {
      let y = x;
      for (const s of stages) y = forward(y, s);
      y.sum().backward();
    });
  };
}
