// Training-step throughput (issue 3 point 10): images/s of one full step (embedder forward with
// BatchNorm in train mode + NormSoftmax loss + backward + SGD step with two parameter groups) for
// ResNet-50 at 224x224, batch 8, ResNet-18 at 112x112, batch 32, and ViT-B/16 at 224, batch 4 (issue 20;
// --quick halves its batch only), and with --dinov2 DIR (a facebookresearch/dinov2 checkout, never committed)
// DINOv2 ViT-S/14 at 224, batch 4 (PyTorch's side: that checkout's hub model): ours vs PyTorch eager
// (bench/train/reference.py, run as a child process) with the same threads, random init and input.
// Usage: node --import tsx bench/train/run.ts [--threads N] [--quick] [--precision fp32|bf16] [--dinov2 DIR]
// (one JSON object)
// --precision bf16: both sides train as `train --precision bf16` does: the embedder's forward under CPU
// autocast (bfloat16) with weights and input in channels_last memory, the loss in float32.
// --quick halves the input size and the batch and takes fewer samples: a smoke run, not figures.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { embedBatch } from '../../src/embed/embed-batch.js';
import { NormSoftmaxLoss } from '../../src/loss/normsoftmax.js';
import { type Arch, createEmbedder } from '../../src/nn/index.js';
import {
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
import type { Precision } from '../../src/tensor/precision.js';
import { SGD } from '../../src/train/optim/sgd.js';
import { BenchArgsError, parseBenchArgs, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { findTorchPython, PythonWorker } from '../common/python.js';
import { inTurn, median, round } from '../common/timing.js';

interface StepCase {
  name: string;
  arch: Arch;
  size: number;
  batch: number;
  /** The size its position embeddings are for: --quick keeps it (a ViT takes one size). */
  fixedSize?: true;
}

const CASES: readonly StepCase[] = [
  { name: 'resnet50@224 batch 8', arch: 'resnet50', size: 224, batch: 8 },
  { name: 'resnet18@112 batch 32', arch: 'resnet18', size: 112, batch: 32 },
  // torchvision's ViT-B/16 (17.6 GMACs an image): its class token after encoder.ln is the features.
  { name: 'vit_b_16@224 batch 4', arch: 'vit_b_16', size: 224, batch: 4, fixedSize: true },
];
// With --dinov2 DIR: 16 x 16 patches of 14 px, position embeddings interpolated from the 37 x 37 grid.
const DINOV2_CASE: StepCase = {
  name: 'dinov2_vits14@224 batch 4',
  arch: 'dinov2_vits14',
  size: 224,
  batch: 4,
  fixedSize: true,
};
// CUB's 100 training classes; the recipe's optimiser. Neither changes the cost much.
const RECIPE = { classes: 100, temperature: 0.05, lr: 0.01, lrMult: 1, momentum: 0.9, weightDecay: 1e-4 };
const REFERENCE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'reference.py');

interface ReferenceSetup {
  torch: string;
  threads: number;
  python: string;
}

function progress(message: string): void {
  process.stderr.write(`[bench/train] ${message}\n`);
}

/** Our step for a case: the same model, loss and optimiser setup as the reference. */
function prepareStep(c: StepCase, precision: Precision): { run: (iterations: number) => void; dispose: () => void } {
  const model = createEmbedder({ arch: c.arch, generator: new Generator(0) });
  if (precision === 'bf16') model.toMemoryFormat('channels_last');
  const loss = new NormSoftmaxLoss({
    numClasses: RECIPE.classes,
    dim: model.dim,
    temperature: RECIPE.temperature,
    generator: new Generator(1),
  });
  const opt = new SGD(
    [
      { params: model.backboneParameters(), lrMult: 1 },
      { params: [...model.newParameters(), ...loss.parameters()], lrMult: RECIPE.lrMult },
    ],
    { lr: RECIPE.lr, momentum: RECIPE.momentum, weightDecay: RECIPE.weightDecay },
  );
  model.train();
  const x: Tensor = keep(randn([c.batch, 3, c.size, c.size], { generator: new Generator(2) }));
  const y: Tensor = keep(tensor(BigInt64Array.from({ length: c.batch }, (_, i) => BigInt(i % RECIPE.classes))));
  const run = (iterations: number) => {
    for (let i = 0; i < iterations; i++) {
      scope(() => {
        loss.forward(embedBatch(model, x, precision), y).backward();
        opt.step();
        opt.zeroGrad();
      });
    }
  };
  const dispose = () => {
    opt.dispose();
    model.dispose();
    for (const t of [loss.weight, x, y]) t.dispose();
  };
  return { run, dispose };
}

/** One step's wall-clock and CPU (all threads of the process) nanoseconds. */
interface Sample {
  wall: number;
  cpu: number;
}

function sampleOurs(run: (iterations: number) => void): Sample {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  run(1);
  const wall = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) * 1000 };
}

/** Samples of both sides, alternating which goes first so that load from other work falls on both. */
async function interleaved(
  repeats: number,
  ours: () => Sample,
  reference: () => Promise<Sample>,
): Promise<{ ours: Sample[]; reference: Sample[] }> {
  const samples = { ours: [] as Sample[], reference: [] as Sample[] };
  for (let r = 0; r < repeats; r++) {
    progress(`  sample ${r + 1}/${repeats}`);
    await inTurn(
      r,
      () => samples.ours.push(ours()),
      async () => samples.reference.push(await reference()),
    );
  }
  return samples;
}

/** Seconds per step of one side: median and minimum of the wall-clock samples, median CPU seconds. */
function summarise(samples: readonly Sample[]) {
  const wall = samples.map((s) => s.wall / 1e9);
  return {
    medianS: median(wall),
    minS: Math.min(...wall),
    cpuMedianS: median(samples.map((s) => s.cpu / 1e9)),
    wallSamplesS: wall.map((v) => round(v, 3)),
  };
}

function sideReport(batch: number, s: ReturnType<typeof summarise>) {
  return {
    imagesPerSecond: round(batch / s.medianS, 2),
    imagesPerSecondBest: round(batch / s.minS, 2),
    secondsPerStepMedian: round(s.medianS, 3),
    cpuSecondsPerStepMedian: round(s.cpuMedianS, 3),
    wallSamplesS: s.wallSamplesS,
  };
}

/** --precision fp32|bf16, taken out of argv before the shared flags are parsed. */
function precisionArg(argv: string[]): { precision: Precision; rest: string[] } {
  const at = argv.indexOf('--precision');
  if (at < 0) return { precision: 'fp32', rest: argv };
  const value = argv[at + 1];
  if (value !== 'fp32' && value !== 'bf16') throw new BenchArgsError('--precision: expected fp32 or bf16');
  return { precision: value, rest: [...argv.slice(0, at), ...argv.slice(at + 2)] };
}

/** --dinov2 DIR, taken out of argv before the shared flags are parsed. */
function dinov2Arg(argv: string[]): { dinov2: string | null; rest: string[] } {
  const at = argv.indexOf('--dinov2');
  if (at < 0) return { dinov2: null, rest: argv };
  const value = argv[at + 1];
  if (!value || !existsSync(join(value, 'dinov2', 'hub', 'backbones.py'))) {
    throw new BenchArgsError(
      `--dinov2: expected a facebookresearch/dinov2 checkout (DIR/dinov2/hub/backbones.py), got ${value}`,
    );
  }
  return { dinov2: resolve(value), rest: [...argv.slice(0, at), ...argv.slice(at + 2)] };
}

async function main(): Promise<void> {
  const { dinov2, rest: afterDinov2 } = dinov2Arg(process.argv.slice(2));
  const { precision, rest } = precisionArg(afterDinov2);
  const args = parseBenchArgs(rest);
  const python = findTorchPython();
  if (python === null) {
    throw new Error('no python3 with torch found (tried python3, /usr/bin/python3): apt install python3-torch');
  }
  setNumThreads(args.threads);
  const warmup = args.quick ? 1 : 2;
  const repeats = args.quick ? 3 : 9;
  const all = dinov2 ? [...CASES, DINOV2_CASE] : CASES;
  const cases = args.quick
    ? all.map((c) => ({ ...c, size: c.fixedSize ? c.size : c.size / 2, batch: c.batch / 2 }))
    : all;
  const worker = new PythonWorker(python, REFERENCE_SCRIPT);
  try {
    const machine = machineInfo();
    const reference = await worker.request<ReferenceSetup>({ cmd: 'setup', threads: args.threads });
    const askStep = async (): Promise<Sample> => {
      const r = await worker.request<{ nsPerIteration: number; cpuNsPerIteration: number }>({
        cmd: 'step',
        iterations: 1,
      });
      return { wall: r.nsPerIteration, cpu: r.cpuNsPerIteration };
    };

    const results = [];
    for (const c of cases) {
      progress(`${c.arch}@${c.size} batch ${c.batch}: warm-up`);
      await worker.request({
        cmd: 'prepare',
        arch: c.arch,
        size: c.size,
        batch: c.batch,
        precision,
        ...RECIPE,
        ...(c.arch.startsWith('dinov2_') ? { dinov2 } : {}),
      });
      const ours = prepareStep(c, precision);
      try {
        ours.run(warmup);
        for (let i = 0; i < warmup; i++) await askStep();
        const samples = await interleaved(repeats, () => sampleOurs(ours.run), askStep);
        const o = summarise(samples.ours);
        const r = summarise(samples.reference);
        results.push({
          name: `${c.arch}@${c.size} batch ${c.batch}`,
          arch: c.arch,
          inputSize: c.size,
          batch: c.batch,
          ours: sideReport(c.batch, o),
          reference: sideReport(c.batch, r),
          ratioOursToReference: round(r.medianS / o.medianS, 3),
          ratioOursToReferenceBest: round(r.minS / o.minS, 3),
          ratioOursToReferenceCpu: round(r.cpuMedianS / o.cpuMedianS, 3),
        });
      } finally {
        ours.dispose();
      }
    }
    const result = {
      benchmark: 'train-step',
      command: `node --import tsx bench/train/run.ts --threads ${args.threads}${args.quick ? ' --quick' : ''} --precision ${precision}${dinov2 ? ' --dinov2 DIR' : ''}`,
      precision,
      quick: args.quick,
      threads: args.threads,
      machine,
      setting: {
        step: 'embedder forward (BatchNorm in train mode, dim = backbone width) + NormSoftmax + backward + SGD step + zero grad',
        forward:
          precision === 'bf16'
            ? 'CPU autocast bfloat16, weights and input channels_last; loss in float32'
            : 'float32, row-major',
        ...RECIPE,
        init: 'random (seeded), no pretrained weights; fixed random input, no data loading',
        warmupSteps: warmup,
        samples: repeats,
      },
      ours: { libtorch: libtorchVersion().torch, threads: getNumThreads(), node: process.version },
      reference: { torch: reference.torch, threads: reference.threads, python: reference.python, executable: python },
      unit: 'images per second = batch / median wall seconds per step (Best: / fastest sample); ratios are ours / reference throughput (Cpu: from median CPU seconds of the whole process)',
      cases: results,
      targets: { ratioAtLeast1: results.every((r) => r.ratioOursToReference >= 1) },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    worker.close();
  }
}

await runBenchMain(main);
