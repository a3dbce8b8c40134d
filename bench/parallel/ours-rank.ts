// One process of bench/parallel/run.ts, our side: ResNet-18 embedder + NormSoftmax + SGD on random input.
// With torchrun's variables it is one rank of a data-parallel job (its slice of the global batch,
// gradients averaged in 25 MB buckets, BatchNorm buffers from rank 0 before each forward, as in
// `normsoftmax train`); without, one process on the global batch. Prints one JSON line (rank 0).
// Usage: node --import tsx bench/parallel/ours-rank.ts ARCH SIZE GLOBAL_BATCH STEPS

import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import { type Arch, createEmbedder } from '../../src/nn/index.js';
import { joinJobFromEnv } from '../../src/parallel/job.js';
import { Generator, getNumThreads, randn, scope, tensor } from '../../src/tensor/index.js';
import { SGD } from '../../src/train/optim/sgd.js';

const [arch, size, globalBatch, steps] = [
  process.argv[2] as Arch,
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5]),
];
const job = await joinJobFromEnv(120, () => {});
const world = job?.env.worldSize ?? 1;
const batch = globalBatch / world;
const model = createEmbedder({ arch, generator: new Generator(0) });
const loss = new NormSoftmaxLoss({ numClasses: 100, dim: model.dim, generator: new Generator(1) });
const params = [...model.parameters(), ...loss.parameters()];
const opt = new SGD([{ params }], { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
const buffers = model.namedBuffers().map(([, t]) => t);
const x = randn([batch, 3, size, size], { generator: new Generator(2 + (job?.env.rank ?? 0)) });
const y = tensor(BigInt64Array.from({ length: batch }, (_, i) => BigInt(i % 100)));
if (job) await job.parallel.start(params, buffers);
model.train();
let commNs = 0;
const stepTimes: number[] = [];
for (let s = 0; s < steps + 1; s++) {
  const t0 = process.hrtime.bigint();
  if (job) await job.parallel.beforeForward(buffers);
  const value = scope(() => {
    const l = loss.forward(model.forward(x), y);
    l.backward();
    return l.item();
  });
  if (job) {
    const grads = params.flatMap((p) => {
      const g = p.grad;
      return g === null ? [] : [g];
    });
    const c0 = process.hrtime.bigint();
    await job.parallel.averageGradients(grads, value);
    if (s > 0) commNs += Number(process.hrtime.bigint() - c0);
    for (const g of grads) g.dispose();
  }
  scope(() => {
    opt.step();
    opt.zeroGrad();
  });
  if (s > 0) stepTimes.push(Number(process.hrtime.bigint() - t0) / 1e6); // the first step warms up
}
const gradientBytes = params.reduce((n, p) => n + p.numel * 4, 0);
if (!job || job.env.rank === 0) {
  console.log(
    JSON.stringify({
      processes: world,
      threads: getNumThreads(),
      msPerStep: stepTimes,
      ...(job ? { commMsPerStep: commNs / 1e6 / steps } : {}),
      gradientBytes,
    }),
  );
}
job?.pg.destroy();
