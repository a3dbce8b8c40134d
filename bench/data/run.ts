// Data pipeline benchmark (issue 4 point 4): images/s of the train pipeline (decode, Pillow-bilinear
// resize to 256x256, random 224 crop, flip, normalise, batch) on synthetic 500x375 JPEGs, ours
// (BatchLoader) vs torchvision (PIL + DataLoader with 2 workers, bench/data/reference.py) in the same
// invocation, and what a resnet50@224 training step (forward + backward, batch 8) consumes, measured
// with our engine (and PyTorch's, for reference). Rounds alternate which side goes first.
// Usage: node --import tsx bench/data/run.ts [--threads N] [--quick] [--images N] [--size WxH] [--draft]
// --draft: both sides decode JPEGs at reduced size where that still covers the 256x256 resize (ours:
// transform.jpegDraft; torchvision: Image.draft('RGB', (256, 256)) before convert), for large photos.
//        (prints one JSON object)
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMAGENET_TRANSFORM } from '../../src/data/image/transform-config.js';
import { BatchLoader } from '../../src/data/loader/batch-loader.js';
import type { Sample } from '../../src/data/types.js';
import { resnet50 } from '../../src/nn/resnet.js';
import { getNumThreads, libtorchVersion, randn, scope, setNumThreads } from '../../src/tensor/index.js';
import { BenchArgsError, parseBenchArgs, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { findTorchPython, PythonWorker } from '../common/python.js';
import { inTurn, median, round } from '../common/timing.js';
import { writeSyntheticJpegs } from './synthetic.js';

const REFERENCE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'reference.py');
const BATCH = 32;
const TORCH_WORKERS = 2;
const STEP_BATCH = 8;
const TARGETS = { pipelineOverConsumption: 2, oursOverTorchvision: 1 };

function progress(message: string): void {
  process.stderr.write(`[bench/data] ${message}\n`);
}

/** A seeded shuffle of 0..n-1 cut into batches (the order does not change the work). */
function shuffledBatches(n: number, batch: number, seed: number): number[][] {
  const order = Array.from({ length: n }, (_, i) => i);
  let state = seed + 1;
  for (let i = n - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const out: number[][] = [];
  for (let i = 0; i < n; i += batch) out.push(order.slice(i, i + batch));
  return out;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * One pass over every sample; rate counted from the first batch on, as the reference does; CPU time of
 * the whole pass (every thread) per image.
 */
async function oursPass(loader: BatchLoader, n: number, epoch: number): Promise<{ rate: number; cpuMs: number }> {
  let first = 0;
  let count = 0;
  const c0 = cpuMs();
  for await (const b of loader.batches(shuffledBatches(n, BATCH, epoch), { epoch })) {
    if (first === 0) first = performance.now();
    else count += b.samples.length;
    b.dispose();
  }
  return { rate: count / ((performance.now() - first) / 1000), cpuMs: (cpuMs() - c0) / n };
}

/** --images N and --size WxH, taken out of argv before the shared flags are parsed. */
function ownArgs(argv: string[]): {
  images: number | null;
  width: number;
  height: number;
  draft: boolean;
  rest: string[];
} {
  const out = { images: null as number | null, width: 500, height: 375, draft: false, rest: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === '--images') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 2 * BATCH)
        throw new BenchArgsError(`--images: expected an integer >= ${2 * BATCH}`);
      out.images = n;
    } else if (flag === '--draft') {
      out.draft = true;
    } else if (flag === '--size') {
      const m = /^(\d+)x(\d+)$/.exec(argv[++i] ?? '');
      if (!m || Number(m[1]) < 256 || Number(m[2]) < 256) throw new BenchArgsError('--size: expected WxH, both >= 256');
      out.width = Number(m[1]);
      out.height = Number(m[2]);
    } else {
      out.rest.push(flag);
    }
  }
  return out;
}

/** The CPU features that matter for the benchmarks, from /proc/cpuinfo (empty elsewhere). */
function cpuFlags(): string[] {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    const all = new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
    return ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16', 'amx_tile'].filter((f) => all.has(f));
  } catch {
    return [];
  }
}

/** Images/s of resnet50 forward + backward (train mode) on a random batch with our engine. */
function oursStep(steps: number): number {
  const model = resnet50({ numClasses: null });
  model.train();
  const x = randn([STEP_BATCH, 3, 224, 224]);
  const once = () =>
    scope(() => {
      model.zeroGrad();
      model.forward(x).sum().backward();
    });
  once(); // warm-up
  const start = performance.now();
  for (let s = 0; s < steps; s++) once();
  const rate = (STEP_BATCH * steps) / ((performance.now() - start) / 1000);
  x.dispose();
  model.dispose();
  return rate;
}

async function main(): Promise<void> {
  const own = ownArgs(process.argv.slice(2));
  const args = parseBenchArgs(own.rest);
  const WIDTH = own.width;
  const HEIGHT = own.height;
  const python = findTorchPython();
  if (python === null)
    throw new Error('no python3 with torch found (tried python3, /usr/bin/python3): apt install python3-torch');
  setNumThreads(args.threads);
  const count = own.images ?? (args.quick ? 256 : 1000);
  const rounds = args.quick ? 1 : 3;
  const steps = args.quick ? 1 : 3;
  const machine = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'normsoftmax-bench-data-'));
  const worker = new PythonWorker(python, REFERENCE_SCRIPT);
  try {
    progress(`writing ${count} synthetic ${WIDTH}x${HEIGHT} JPEGs to ${dir}`);
    const files = await writeSyntheticJpegs(dir, count, WIDTH, HEIGHT);
    let bytes = 0;
    for (const f of files) bytes += (await stat(f)).size;
    const reference = await worker.request<Record<string, string | number>>({ cmd: 'setup', threads: args.threads });
    const samples: Sample[] = files.map((path) => ({ path, label: 0 }));
    const loader = new BatchLoader({
      dataset: {},
      samples,
      transform: { ...IMAGENET_TRANSFORM, jpegDraft: own.draft },
      mode: 'train',
      seed: 1,
    });
    const ours: number[] = [];
    const oursCpu: number[] = [];
    const torchvision: number[] = [];
    const torchvisionCpu: number[] = [];
    const oursRound = async (r: number) => {
      const pass = await oursPass(loader, count, r);
      ours.push(pass.rate);
      oursCpu.push(pass.cpuMs);
      progress(`round ${r + 1}: ours ${round(ours.at(-1) as number, 1)} images/s`);
    };
    const torchRound = async (r: number) => {
      const reply = await worker.request<{ imagesPerSecond: number; cpuMsPerImage: number }>({
        cmd: 'pipeline',
        draft: own.draft,
        files,
        batch: BATCH,
        workers: TORCH_WORKERS,
        seed: r,
      });
      torchvision.push(reply.imagesPerSecond);
      torchvisionCpu.push(reply.cpuMsPerImage);
      progress(`round ${r + 1}: torchvision ${round(reply.imagesPerSecond, 1)} images/s`);
    };
    try {
      for (let r = 0; r < rounds; r++) {
        await inTurn(
          r,
          () => oursRound(r),
          () => torchRound(r),
        );
      }
    } finally {
      await loader.close();
    }
    progress(`resnet50 forward+backward, batch ${STEP_BATCH}, ${steps} steps per side`);
    const stepOurs = oursStep(steps);
    const stepTorch = (await worker.request<{ imagesPerSecond: number }>({ cmd: 'step', batch: STEP_BATCH, steps }))
      .imagesPerSecond;
    const oursRate = median(ours);
    const torchRate = median(torchvision);
    const ratios = { pipelineOverConsumption: oursRate / stepOurs, oursOverTorchvision: oursRate / torchRate };
    const result = {
      benchmark: 'data',
      quick: args.quick,
      machine: { ...machine, loadAverage1mAtEnd: round(loadavg()[0] ?? 0, 2) },
      cpuFlags: cpuFlags(),
      threads: getNumThreads(),
      libtorch: libtorchVersion().torch,
      reference,
      images: { count, width: WIDTH, height: HEIGHT, meanKiB: round(bytes / count / 1024, 1) },
      transform: `${own.draft ? "JPEG draft decode (Pillow's draft to 256x256), " : ''}resize 256x256 (Pillow bilinear), random crop 224, flip p=0.5, ImageNet normalise, float32 CHW`,
      draft: own.draft,
      batch: BATCH,
      rounds,
      ours: {
        imagesPerSecond: round(oursRate, 1),
        samples: ours.map((v) => round(v, 1)),
        cpuMsPerImage: round(median(oursCpu), 2),
        workers: loader.workers,
        concurrency: loader.concurrency,
        prefetch: loader.prefetch,
      },
      torchvision: {
        imagesPerSecond: round(torchRate, 1),
        samples: torchvision.map((v) => round(v, 1)),
        cpuMsPerImage: round(median(torchvisionCpu), 2),
        workers: TORCH_WORKERS,
      },
      consumption: {
        step: `resnet50@224 forward+backward, batch ${STEP_BATCH}, train mode`,
        oursImagesPerSecond: round(stepOurs, 2),
        pytorchImagesPerSecond: round(stepTorch, 2),
      },
      ratios: {
        pipelineOverConsumption: round(ratios.pipelineOverConsumption, 1),
        pipelineOverPytorchConsumption: round(oursRate / stepTorch, 1),
        oursOverTorchvision: round(ratios.oursOverTorchvision, 2),
      },
      targets: TARGETS,
      meetsTargets: {
        pipelineOverConsumption: ratios.pipelineOverConsumption >= TARGETS.pipelineOverConsumption,
        oursOverTorchvision: ratios.oursOverTorchvision >= TARGETS.oursOverTorchvision,
      },
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    worker.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await runBenchMain(main);
