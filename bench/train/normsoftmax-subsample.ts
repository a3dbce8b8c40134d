// NormSoftmax step cost with class subsampling (issue 3 point 10): one forward + backward + SGD step
// with C = 100,000 classes, d = 512, batch 75 (15 classes x 5 images), at f = 1 and f = 0.1 (ours),
// and the f = 1 step in PyTorch eager in the same invocation for the ratio.
// Usage: node --import tsx bench/train/normsoftmax-subsample.ts [--threads N] [--quick]  (prints JSON)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import {
  F,
  Generator,
  getNumThreads,
  keep,
  libtorchVersion,
  randn,
  scope,
  setNumThreads,
  type Tensor,
  tensor,
} from '../../src/tensor/index.js';
import { SGD } from '../../src/train/optim/sgd.js';
import { Rng } from '../../src/util/rng.js';
import { parseBenchArgs, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { findTorchPython, PythonWorker } from '../common/python.js';
import { median, round, timePerIteration } from '../common/timing.js';

const SETTING = { classes: 100_000, dim: 512, batch: 75, imagesPerClass: 5, temperature: 0.05 };
const REFERENCE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'normsoftmax-subsample.py');

function progress(message: string): void {
  process.stderr.write(`[bench/train/normsoftmax-subsample] ${message}\n`);
}

/** A step body at class fraction f: forward, backward (into x and W), SGD step, zero grads. */
function prepareStep(classFraction: number): { run: (iterations: number) => void; dispose: () => void } {
  const { classes, dim, batch, imagesPerClass, temperature } = SETTING;
  const loss = new NormSoftmaxLoss({
    numClasses: classes,
    dim,
    temperature,
    classFraction,
    generator: new Generator(0),
    rng: new Rng(0),
  });
  const opt = new SGD(loss.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const perBatch = batch / imagesPerClass;
  const labels = Array.from(
    { length: batch },
    (_, i) => Math.floor(i / imagesPerClass) * Math.floor(classes / perBatch),
  );
  const y = keep(tensor(BigInt64Array.from(labels, BigInt)));
  const x: Tensor = keep(
    scope(() => F.normalize(randn([batch, dim], { generator: new Generator(1) }))).requiresGrad_(true),
  );
  const run = (iterations: number) => {
    for (let i = 0; i < iterations; i++) {
      scope(() => {
        loss.forward(x, y).backward();
        opt.step();
        opt.zeroGrad();
        x.zeroGrad();
      });
    }
  };
  const dispose = () => {
    opt.dispose();
    for (const t of [loss.weight, x, y]) t.dispose();
  };
  return { run, dispose };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const python = findTorchPython();
  if (python === null)
    throw new Error('no python3 with torch found (tried python3, /usr/bin/python3): apt install python3-torch');
  setNumThreads(args.threads);
  const repeats = args.quick ? 2 : 7;
  const worker = new PythonWorker(python, REFERENCE_SCRIPT);
  try {
    const machine = machineInfo();
    const reference = await worker.request<{ torch: string; threads: number; python: string }>({
      cmd: 'setup',
      threads: args.threads,
      ...SETTING,
    });
    const askStep = async () =>
      (await worker.request<{ nsPerIteration: number }>({ cmd: 'step', iterations: 1 })).nsPerIteration;

    // Sides alternate within each round, so that load from other work falls on all of them.
    const full = prepareStep(1);
    const sub = prepareStep(0.1);
    progress('warm-up');
    full.run(1);
    sub.run(1);
    await askStep();
    const ns = { full: [] as number[], sub: [] as number[], reference: [] as number[] };
    for (let r = 0; r < repeats; r++) {
      progress(`round ${r + 1}/${repeats}`);
      ns.full.push(timePerIteration(full.run, 1));
      ns.reference.push(await askStep());
      ns.sub.push(timePerIteration(sub.run, 1));
    }
    full.dispose();
    sub.dispose();
    const ms = { full: median(ns.full) / 1e6, sub: median(ns.sub) / 1e6, reference: median(ns.reference) / 1e6 };
    const result = {
      benchmark: 'normsoftmax-subsample',
      command: `node --import tsx bench/train/normsoftmax-subsample.ts --threads ${args.threads}${args.quick ? ' --quick' : ''}`,
      quick: args.quick,
      threads: args.threads,
      machine,
      setting: {
        ...SETTING,
        optimizer: 'SGD momentum 0.9, weight decay 1e-4',
        subsetSizeAtF01: Math.ceil(0.1 * SETTING.classes),
      },
      ours: { libtorch: libtorchVersion().torch, threads: getNumThreads(), node: process.version },
      reference: { torch: reference.torch, threads: reference.threads, python: reference.python, executable: python },
      unit: 'milliseconds per step (median of samples): forward + backward + SGD step + zero grad',
      samples: repeats,
      msPerStep: { oursF1: round(ms.full, 1), oursF01: round(ms.sub, 1), referenceF1: round(ms.reference, 1) },
      subsamplingSpeedup: round(ms.full / ms.sub, 2),
      ratioOursToReferenceF1: round(ms.full / ms.reference, 3),
      targets: { subsampledStepCheaper: ms.sub < ms.full, fullStepNoSlowerThanReference: ms.full <= ms.reference },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    worker.close();
  }
}

await runBenchMain(main);
