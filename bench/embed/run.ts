// Files-to-vectors benchmark (issue 11 point 6): images/s from a folder of JPEGs (500x375, written by
// the benchmark with sharp) to an .npy of unit-length embeddings, end to end (decode, resize, crop,
// normalise, forward, save), for each model and each side, in one invocation; plus the image pipeline
// alone (ours vs torchvision's DataLoader) at each model's sizes. Sides are entries of SIDES below
// (ours through embedSamples, what `normsoftmax embed` runs; PyTorch through bench/embed/reference.py),
// so another engine or precision is one more entry. Rounds alternate the order of the sides.
// Usage: node --import tsx bench/embed/run.ts [--threads N] [--quick] [--images N]
//        [--models resnet50@224,resnet18@112] [--sides ours-libtorch-fp32,pytorch-fp32] [--rounds N]
//        [--decode-workers N] [--batch N]          (prints one JSON object)
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformForInput } from '../../src/data/image/transform-config.js';
import { BatchLoader } from '../../src/data/loader/batch-loader.js';
import { DEFAULT_PIPELINE, type PipelineOptions } from '../../src/data/sources/types.js';
import type { Dataset, Sample } from '../../src/data/types.js';
import { embedSamples } from '../../src/embed/embed-samples.js';
import { saveNpy } from '../../src/io/npy.js';
import { type Arch, createEmbedder, type Embedder, isArch } from '../../src/nn/embedder.js';
import { getNumThreads, libtorchVersion, noGrad, randn, scope, setNumThreads } from '../../src/tensor/index.js';
import { BenchArgsError, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { findTorchPython, PythonWorker } from '../common/python.js';
import { median, round } from '../common/timing.js';
import { writeSyntheticJpegs } from '../data/synthetic.js';

const REFERENCE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'reference.py');
const WIDTH = 500;
const HEIGHT = 375;
const DIM = 512;
const TARGETS = { oursOverPytorch: 1, pipelineOverTorchvision: 1 };

interface ModelCase {
  name: string;
  arch: Arch;
  crop: number;
  /** The square resize before the centre crop: crop * 8/7, as the pipeline's default. */
  resize: number;
}

interface Context {
  files: string[];
  dir: string;
  threads: number;
  batch: number;
  /** Decode workers of our pipeline (default: what `embed` uses). */
  decodeWorkers: number;
  python: PythonWorker;
}

interface SideResult {
  imagesPerSecond: number;
  /** Process CPU time per image (all threads; the reference counts its worker processes too). */
  cpuMsPerImage?: number;
}

/** One way of turning the folder into an .npy; `precision` pairs it with the side it is compared to. */
interface Side {
  name: string;
  engine: 'ours' | 'pytorch';
  precision: 'fp32' | 'bf16';
  run(ctx: Context, model: ModelCase, round: number): Promise<SideResult>;
}

function progress(message: string): void {
  process.stderr.write(`[bench/embed] ${message} (load ${loadavg()[0]?.toFixed(2)})\n`);
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function oursModel(m: ModelCase): Embedder {
  const model = createEmbedder({ arch: m.arch, dim: DIM });
  model.eval();
  scope(() => noGrad(() => model.forward(randn([8, 3, m.crop, m.crop])))); // warm-up
  return model;
}

function pipelineOf(ctx: Context, m: ModelCase): PipelineOptions {
  return { ...DEFAULT_PIPELINE, resize: m.resize, crop: m.crop, workers: ctx.decodeWorkers };
}

async function oursEmbed(ctx: Context, m: ModelCase, round: number): Promise<SideResult> {
  const model = oursModel(m);
  const samples: Sample[] = ctx.files.map((path) => ({ path, label: 0 }));
  const dataset: Dataset = { name: 'images', root: ctx.dir, splits: { test: samples } };
  try {
    const c0 = cpuMs();
    const t0 = performance.now();
    const embeddings = await embedSamples(model, dataset, samples, {
      batchSize: ctx.batch,
      pipeline: pipelineOf(ctx, m),
      silent: true,
    });
    saveNpy(join(ctx.dir, `ours-${m.name}-${round}.npy`), embeddings);
    const seconds = (performance.now() - t0) / 1000;
    const n = embeddings.size(0);
    embeddings.dispose();
    return { imagesPerSecond: n / seconds, cpuMsPerImage: (cpuMs() - c0) / n };
  } finally {
    model.dispose();
  }
}

async function pytorchEmbed(
  ctx: Context,
  m: ModelCase,
  round: number,
  precision: 'fp32' | 'bf16',
): Promise<SideResult> {
  const reply = await ctx.python.request<{ imagesPerSecond: number; cpuSeconds: number; images: number }>({
    cmd: 'embed',
    files: ctx.files,
    arch: m.arch,
    resize: m.resize,
    crop: m.crop,
    dim: DIM,
    batch: ctx.batch,
    workers: availableParallelism(),
    precision,
    out: join(ctx.dir, `pytorch-${m.name}-${round}.npy`),
  });
  return { imagesPerSecond: reply.imagesPerSecond, cpuMsPerImage: (reply.cpuSeconds * 1000) / reply.images };
}

/** The sides, in the order they run; add an engine or a precision here. */
export const SIDES: readonly Side[] = [
  { name: 'ours-libtorch-fp32', engine: 'ours', precision: 'fp32', run: oursEmbed },
  {
    name: 'pytorch-fp32',
    engine: 'pytorch',
    precision: 'fp32',
    run: (ctx, m, r) => pytorchEmbed(ctx, m, r, 'fp32'),
  },
];

/**
 * Images/s of our eval pipeline alone (rate from the first batch to the last, as bench/data), and the
 * CPU time of the whole pass (decode workers' start-up included) per image.
 */
async function oursPipeline(ctx: Context, m: ModelCase): Promise<SideResult> {
  const base = transformForInput(createEmbedder({ arch: m.arch }).input);
  const transform = {
    ...base,
    resize: { width: m.resize, height: m.resize },
    crop: { width: m.crop, height: m.crop },
  };
  const samples: Sample[] = ctx.files.map((path) => ({ path, label: 0 }));
  const loader = new BatchLoader({ dataset: {}, samples, transform, mode: 'eval', workers: ctx.decodeWorkers });
  const chunks: number[][] = [];
  for (let s = 0; s < samples.length; s += ctx.batch) {
    chunks.push(Array.from({ length: Math.min(ctx.batch, samples.length - s) }, (_, i) => s + i));
  }
  let first = 0;
  let count = 0;
  const c0 = cpuMs();
  try {
    for await (const b of loader.batches(chunks)) {
      if (first === 0) first = performance.now();
      else count += b.samples.length;
      b.dispose();
    }
  } finally {
    await loader.close();
  }
  return {
    imagesPerSecond: count / ((performance.now() - first) / 1000),
    cpuMsPerImage: (cpuMs() - c0) / samples.length,
  };
}

async function torchvisionPipeline(ctx: Context, m: ModelCase): Promise<SideResult> {
  const reply = await ctx.python.request<{ imagesPerSecond: number; cpuMsPerImage: number }>({
    cmd: 'pipeline',
    files: ctx.files,
    resize: m.resize,
    crop: m.crop,
    batch: ctx.batch,
    workers: availableParallelism(),
  });
  return { imagesPerSecond: reply.imagesPerSecond, cpuMsPerImage: reply.cpuMsPerImage };
}

function parseModels(value: string): ModelCase[] {
  return value.split(',').map((spec) => {
    const match = /^([a-z0-9]+)@(\d+)$/.exec(spec.trim());
    const arch = match?.[1] ?? '';
    const crop = Number(match?.[2]);
    if (!match || !isArch(arch) || !arch.startsWith('resnet') || crop < 32) {
      throw new BenchArgsError(`--models: expected resnetNN@SIZE[,...], got ${spec}`);
    }
    return { name: `${arch}@${crop}`, arch, crop, resize: Math.round((crop * 8) / 7) };
  });
}

interface Args {
  threads: number;
  quick: boolean;
  images: number;
  models: ModelCase[];
  sides: Side[];
  rounds: number;
  decodeWorkers: number;
  batch: number;
}

function positive(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1) {
    throw new BenchArgsError(`${flag}: expected a positive integer, got ${value ?? 'nothing'}`);
  }
  return n;
}

function parseArgs(argv: readonly string[]): Args {
  const quick = argv.includes('--quick');
  const a: Args = {
    threads: availableParallelism(),
    quick,
    images: quick ? 128 : 1000,
    models: parseModels('resnet50@224,resnet18@112'),
    sides: [...SIDES],
    rounds: quick ? 1 : 2,
    decodeWorkers: DEFAULT_PIPELINE.workers,
    batch: 64,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (flag === '--quick') continue;
    i++;
    if (flag === '--threads') a.threads = positive(flag, value);
    else if (flag === '--images') a.images = positive(flag, value);
    else if (flag === '--rounds') a.rounds = positive(flag, value);
    else if (flag === '--decode-workers') a.decodeWorkers = positive(flag, value);
    else if (flag === '--batch') a.batch = positive(flag, value);
    else if (flag === '--models') a.models = parseModels(value ?? '');
    else if (flag === '--sides') {
      a.sides = (value ?? '').split(',').map((name) => {
        const side = SIDES.find((s) => s.name === name.trim());
        if (!side)
          throw new BenchArgsError(`--sides: unknown side ${name}; known: ${SIDES.map((s) => s.name).join(', ')}`);
        return side;
      });
    } else {
      throw new BenchArgsError(
        `unknown argument ${flag} (expected --threads, --quick, --images, --models, --sides, --rounds, --decode-workers, --batch)`,
      );
    }
  }
  return a;
}

/** The CPU features that decide fp32/bf16 speed, from /proc/cpuinfo (empty elsewhere). */
function cpuFlags(): { flags: string[]; nativeBf16: boolean } {
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    const all = new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
    flags = ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16', 'amx_tile'].filter((f) => all.has(f));
  } catch {
    // not Linux: no flags recorded
  }
  return { flags, nativeBf16: flags.includes('avx512_bf16') || flags.includes('amx_bf16') };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // The pipeline comparison needs torchvision whatever the sides are.
  const pythonExe = findTorchPython();
  if (pythonExe === null) {
    throw new Error('no python3 with torch found (tried python3, /usr/bin/python3): apt install python3-torch');
  }
  setNumThreads(args.threads);
  const machine = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'normsoftmax-bench-embed-'));
  const python = new PythonWorker(pythonExe, REFERENCE_SCRIPT);
  try {
    progress(`writing ${args.images} synthetic ${WIDTH}x${HEIGHT} JPEGs to ${dir}`);
    const files = await writeSyntheticJpegs(join(dir, 'images'), args.images, WIDTH, HEIGHT);
    let bytes = 0;
    for (const f of files) bytes += (await stat(f)).size;
    const reference = await python.request<Record<string, unknown>>({ cmd: 'setup', threads: args.threads });
    const ctx: Context = {
      files,
      dir,
      threads: args.threads,
      batch: args.batch,
      // The loader never starts more decode workers than cores.
      decodeWorkers: Math.min(args.decodeWorkers, availableParallelism()),
      python,
    };
    const models = [];
    for (const m of args.models) {
      const samples: Record<string, { imagesPerSecond: number; cpuMsPerImage?: number; loadAverage1m: number }[]> = {};
      const pipeline = { ours: [] as SideResult[], torchvision: [] as SideResult[] };
      for (let r = 0; r < args.rounds; r++) {
        const order = r % 2 === 0 ? args.sides : [...args.sides].reverse();
        for (const side of order) {
          const load = loadavg()[0] ?? 0;
          const got = await side.run(ctx, m, r);
          const list = samples[side.name] ?? [];
          list.push({ ...got, loadAverage1m: round(load, 2) });
          samples[side.name] = list;
          progress(`${m.name} round ${r + 1}: ${side.name} ${round(got.imagesPerSecond, 1)} images/s`);
        }
        const pipelineOrder = r % 2 === 0 ? ['ours', 'torchvision'] : ['torchvision', 'ours'];
        for (const which of pipelineOrder) {
          const got = which === 'ours' ? await oursPipeline(ctx, m) : await torchvisionPipeline(ctx, m);
          pipeline[which as 'ours' | 'torchvision'].push(got);
          progress(`${m.name} round ${r + 1}: pipeline ${which} ${round(got.imagesPerSecond, 1)} images/s`);
        }
      }
      const sides: Record<string, unknown> = {};
      const rate: Record<string, number> = {};
      for (const side of args.sides) {
        const list = samples[side.name] ?? [];
        rate[side.name] = median(list.map((s) => s.imagesPerSecond));
        const cpu = list.flatMap((s) => (s.cpuMsPerImage === undefined ? [] : [s.cpuMsPerImage]));
        sides[side.name] = {
          engine: side.engine,
          precision: side.precision,
          imagesPerSecond: round(rate[side.name] as number, 2),
          cpuMsPerImage: cpu.length > 0 ? round(median(cpu), 2) : null,
          samples: list.map((s) => ({
            ...s,
            imagesPerSecond: round(s.imagesPerSecond, 2),
            cpuMsPerImage: s.cpuMsPerImage === undefined ? null : round(s.cpuMsPerImage, 2),
          })),
        };
      }
      // Each of our sides over PyTorch at the same precision.
      const ratios: Record<string, number> = {};
      for (const ours of args.sides.filter((s) => s.engine === 'ours')) {
        const torch = args.sides.find((s) => s.engine === 'pytorch' && s.precision === ours.precision);
        if (torch)
          ratios[`${ours.name}/${torch.name}`] = round((rate[ours.name] as number) / (rate[torch.name] as number), 3);
      }
      const pipelineOurs = median(pipeline.ours.map((p) => p.imagesPerSecond));
      const pipelineTorch = median(pipeline.torchvision.map((p) => p.imagesPerSecond));
      const cpuOf = (list: SideResult[]) => round(median(list.map((p) => p.cpuMsPerImage ?? Number.NaN)), 2);
      models.push({
        model: m.name,
        arch: m.arch,
        resize: m.resize,
        crop: m.crop,
        dim: DIM,
        sides,
        ratios,
        pipeline: {
          oursImagesPerSecond: round(pipelineOurs, 1),
          torchvisionImagesPerSecond: round(pipelineTorch, 1),
          samples: {
            ours: pipeline.ours.map((p) => round(p.imagesPerSecond, 1)),
            torchvision: pipeline.torchvision.map((p) => round(p.imagesPerSecond, 1)),
          },
          ratio: round(pipelineOurs / pipelineTorch, 3),
          oursCpuMsPerImage: cpuOf(pipeline.ours),
          torchvisionCpuMsPerImage: cpuOf(pipeline.torchvision),
        },
        meetsTargets: {
          oursOverPytorch: Object.values(ratios).every((v) => v >= TARGETS.oursOverPytorch),
          pipelineOverTorchvision: pipelineOurs / pipelineTorch >= TARGETS.pipelineOverTorchvision,
        },
      });
    }
    const result = {
      benchmark: 'embed',
      quick: args.quick,
      machine: { ...machine, loadAverage1mAtEnd: round(loadavg()[0] ?? 0, 2) },
      cpu: cpuFlags(),
      threads: getNumThreads(),
      // The loader never starts more decode workers than cores.
      decodeWorkers: Math.min(args.decodeWorkers, availableParallelism()),
      pytorchLoaderWorkers: availableParallelism(),
      libtorch: libtorchVersion().torch,
      reference,
      images: { count: args.images, width: WIDTH, height: HEIGHT, meanKiB: round(bytes / args.images / 1024, 1) },
      work:
        'JPEG folder -> decode (PIL / ours), square resize (Pillow bilinear), centre crop, ImageNet normalise, ' +
        `embedder forward (backbone, LayerNorm, linear to ${DIM}, L2) in eval mode without autograd, .npy written`,
      batch: args.batch,
      rounds: args.rounds,
      models,
      targets: TARGETS,
      meetsTargets: models.every((m) => m.meetsTargets.oursOverPytorch && m.meetsTargets.pipelineOverTorchvision),
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    python.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await runBenchMain(main);
