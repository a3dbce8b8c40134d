// Child process of memory-trainer.test.ts (needs --expose-gc): the real trainer (runTraining) on a folder
// data set of generated PNGs read by the image-file loader (BatchLoader, decode workers), ResNet-18 at
// 32x32 with BatchNorm in train mode, NormSoftmax with class subsampling (a new subset of W's rows
// every step) and SGD with momentum (row-sparse updates of W). A warm-up epoch, then main-phase epochs
// of BATCHES steps; after each main epoch the evaluation hook (the trainer awaits it between epochs, with
// no batch in flight) collects garbage, lets the event loop turn and records live tensors, native bytes
// and RSS. Prints {steps, snapshots: [{step, liveTensors, bytes, rss}], numClasses, subsets}.
//   args: ROOT (the generated data set), OUT (checkpoints, metrics), EPOCHS (main-phase epochs)
import { mkdirSync } from 'node:fs';
import { loadDataset } from '../../../src/data/formats/index.js';
import { createBatchSource } from '../../../src/data/sources/batch-source.js';
import type { NormSoftmaxLoss } from '../../../src/loss/normsoftmax.js';
import { createEmbedder } from '../../../src/nn/index.js';
import { manualSeed, memory } from '../../../src/tensor/index.js';
import { resolveConfig } from '../../../src/train/config.js';
import { createLoss, createSampler } from '../../../src/train/session.js';
import { runTraining } from '../../../src/train/trainer.js';

const [root, out, epochsArg] = process.argv.slice(2) as [string, string, string];
mkdirSync(out, { recursive: true });
const BATCHES = 25;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const config = resolveConfig({
  flags: {
    dataset: 'folder',
    root,
    arch: 'resnet18',
    dim: 64,
    batchSize: 8,
    imagesPerClass: 2,
    lr: 0.01,
    warmupEpochs: 1,
    epochsPerStep: 100,
    numSteps: Number(epochsArg),
    evalEvery: 1,
    classFraction: 0.25,
    resize: 36,
    crop: 32,
    workers: 1,
    maxBatchesPerEpoch: BATCHES,
    seed: 1,
    k: [1],
    out,
  },
});
// The check is about steps, not epochs: numSteps * epochsPerStep would be 100x too many.
config.epochsPerStep = 1;
config.gamma = 1;
manualSeed(config.seed);
const dataset = loadDataset('folder', root);
const train = dataset.splits.train ?? [];
const numClasses = new Set(train.map((s) => s.label)).size;
const model = createEmbedder({ arch: config.arch, dim: config.dim });
const loss = createLoss(config, numClasses);
const sampler = createSampler(
  config,
  train.map((s) => s.label),
);
const source = createBatchSource(dataset, train, model.input, config, 'train');
// The distinct class subsets the loss used (NormSoftmaxLoss.lastClasses after each forward).
const subsets = new Set<string>();
const forward = loss.forward.bind(loss);
loss.forward = (embeddings, labels) => {
  const value = forward(embeddings, labels);
  subsets.add(JSON.stringify((loss as NormSoftmaxLoss).lastClasses));
  return value;
};

const turnEventLoop = () => new Promise((resolve) => setImmediate(resolve));
const snapshots: { step: number; liveTensors: number; liveBeforeGc: number; bytes: number; rss: number }[] = [];
let epochs = 0;
const state = await runTraining({
  config,
  model,
  loss,
  sampler,
  source,
  numClasses,
  evaluate: async () => {
    epochs++;
    // Before any collection: tensors freed only by the GC backstop would show here.
    const held = memory().liveTensors;
    for (let i = 0; i < 3; i++) {
      gc();
      await turnEventLoop();
    }
    const m = memory();
    snapshots.push({
      step: (epochs + config.warmupEpochs) * BATCHES,
      liveTensors: m.liveTensors,
      liveBeforeGc: held,
      bytes: m.bytes,
      rss: process.memoryUsage().rss,
    });
    return { float: { recall: { '1': 0 } } };
  },
  outDir: out,
  silent: true,
  log: () => {},
});
await source.dispose?.();
process.stdout.write(JSON.stringify({ steps: state.step, snapshots, numClasses, subsets: subsets.size }));
