// Files-to-vectors benchmark (issue 11 point 6): images/s from a folder of JPEGs (500x375, written by
// the benchmark with sharp) to an .npy of unit-length embeddings, end to end (decode, resize, crop,
// normalise, forward, save), for each model and each side, in one invocation; plus the image pipeline
// alone (ours vs torchvision's DataLoader) at each model's sizes. Sides are entries of SIDES below:
// ours through embedSamples (what `normsoftmax embed` runs) on libtorch fp32, libtorch bf16
// (autocast) and onnxruntime (the exported model, BN folded, as embed's ONNX cache writes it); PyTorch
// fp32 and autocast bf16 through bench/embed/reference.py. Every side of a model has the same weights
// (seeded), so the JSON also gives each side's agreement (cosine) with its engine's fp32 embeddings.
// Rounds alternate the order of the sides. Targets: the default engine (DEFAULT_ENGINE for fp32,
// libtorch for bf16) >= 1.0x PyTorch at the same precision; our pipeline >= 1.0x torchvision's.
// ViT-B/16 (vit_b_16@224) runs as its publisher evaluates (shorter side 256, centre 224; PyTorch side:
// torchvision's vit_b_16 with its heads removed), on VIT_IMAGES of the images (quick by default); with
// --dinov2 DIR (a facebookresearch/dinov2 checkout, read by reference.py, never committed) a
// dinov2_vits14@224 row too (shorter side 256 bicubic; PyTorch side: dinov2.hub.backbones.dinov2_vits14).
// Usage: node --import tsx bench/embed/run.ts [--threads N] [--quick] [--images N]
//        [--models resnet50@224,resnet18@112,vit_b_16@224] [--sides ours-libtorch-fp32,pytorch-fp32,...] [--rounds N]
//        [--decode-workers N] [--batch N] [--wait-quiet] [--wait-quiet-max SECONDS] [--dinov2 DIR]
//        (prints one JSON object)
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { transformForInput } from '../../src/data/image/transform-config.js';
import { BatchLoader } from '../../src/data/loader/batch-loader.js';
import { DEFAULT_PIPELINE, type PipelineOptions } from '../../src/data/sources/types.js';
import type { Dataset, Sample } from '../../src/data/types.js';
import { DEFAULT_ENGINE } from '../../src/embed/choose-engine.js';
import { embedSamples } from '../../src/embed/embed-samples.js';
import type { EmbeddingEngine } from '../../src/embed/engine.js';
import { libtorchEngine } from '../../src/embed/libtorch-engine.js';
import { DEFAULT_OPSET, exportOnnx } from '../../src/embed/onnx/index.js';
import { onnxEngine } from '../../src/embed/onnx-engine.js';
import { loadNpy, saveNpy } from '../../src/io/npy.js';
import { type Arch, archInput, createEmbedder, isArch } from '../../src/nn/embedder.js';
import type { ResizeFilter, ResizeMode } from '../../src/nn/input-spec.js';
import { Generator, getNumThreads, libtorchVersion, scope, setNumThreads, tensor } from '../../src/tensor/index.js';
import type { Precision } from '../../src/tensor/precision.js';
import { cpuBf16Support } from '../../src/util/cpu-bf16.js';
import { BenchArgsError, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { findTorchPython, PythonWorker } from '../common/python.js';
import { median, round } from '../common/timing.js';
import { writeSyntheticJpegs } from '../data/synthetic.js';

const REFERENCE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'reference.py');
const WIDTH = 500;
const HEIGHT = 375;
const DIM = 512;
const TARGETS = { defaultEngineOverPytorch: 1, pipelineOverTorchvision: 1 };
/** Weights of every side's model (ours: Generator(SEED); PyTorch: torch.manual_seed(SEED)). */
const SEED = 0;
/** The 1-minute load average --wait-quiet waits for, and how often it looks. */
const QUIET_LOAD = 0.5;
const QUIET_POLL_S = 10;

interface ModelCase {
  name: string;
  arch: Arch;
  crop: number;
  /** The resize before the centre crop: crop * 8/7 square (the pipeline's default), or a ViT's publisher's. */
  resize: number;
  /** 'shorter': the shorter side to `resize` (a ViT's); 'square': resize x resize. */
  resizeMode: ResizeMode;
  filter: ResizeFilter;
  /** At most this many of the images (the ViT rows: a quick row whatever --images says). */
  maxImages: number | null;
}

/** Images of a ViT row (quick: fewer), so that it costs about what a ResNet row does. */
const VIT_IMAGES = { full: 64, quick: 16 };

/** The model's share of the folder. */
const filesOf = (ctx: Context, m: ModelCase) => (m.maxImages === null ? ctx.files : ctx.files.slice(0, m.maxImages));
/** The model's batch: a capped row keeps four batches, so that the pipeline's first-to-last rate has some. */
const batchOf = (ctx: Context, m: ModelCase) =>
  m.maxImages === null ? ctx.batch : Math.max(1, Math.min(ctx.batch, Math.floor(m.maxImages / 4)));

interface Context {
  files: string[];
  dir: string;
  threads: number;
  batch: number;
  /** Decode workers of our pipeline (default: what `embed` uses). */
  decodeWorkers: number;
  python: PythonWorker;
  dinov2: string | null;
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
  /** Our forward engine (ours only). */
  forward?: 'libtorch' | 'onnxruntime';
  precision: Precision;
  run(ctx: Context, model: ModelCase, round: number): Promise<SideResult>;
}

const npyOf = (ctx: Context, side: string, m: ModelCase, round: number) =>
  join(ctx.dir, `${side}-${m.name.replace('@', '-')}-${round}.npy`);

function progress(message: string): void {
  process.stderr.write(`[bench/embed] ${message} (load ${loadavg()[0]?.toFixed(2)})\n`);
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Our engine for a side (built and warmed up outside the timing, as embed's cached model is ready). */
async function oursEngine(ctx: Context, m: ModelCase, forward: 'libtorch' | 'onnxruntime', precision: Precision) {
  const model = createEmbedder({ arch: m.arch, dim: DIM, generator: new Generator(SEED) });
  model.eval();
  const input = model.input;
  let engine: EmbeddingEngine;
  if (forward === 'libtorch') {
    engine = libtorchEngine(model, { precision });
  } else {
    try {
      const bytes = exportOnnx(model, { opset: DEFAULT_OPSET, foldBn: true, dynamicBatch: true });
      engine = await onnxEngine(bytes, `${m.arch}.onnx`, { threads: ctx.threads });
    } finally {
      model.dispose();
    }
  }
  const n = Math.min(8, batchOf(ctx, m));
  const shape = [n, 3, m.crop, m.crop];
  try {
    await engine.embed(
      new Float32Array(n * 3 * m.crop * m.crop).map((_, i) => Math.sin(i * 0.01)),
      shape,
    );
  } catch (e) {
    engine.dispose();
    throw e;
  }
  return { engine, input };
}

function pipelineOf(ctx: Context, m: ModelCase): PipelineOptions {
  return { ...DEFAULT_PIPELINE, resize: m.resize, crop: m.crop, workers: ctx.decodeWorkers };
}

function oursSide(forward: 'libtorch' | 'onnxruntime', precision: Precision): Side {
  const name = `ours-${forward}-${precision}`;
  return {
    name,
    engine: 'ours',
    forward,
    precision,
    async run(ctx, m, round) {
      const { engine, input } = await oursEngine(ctx, m, forward, precision);
      const samples: Sample[] = filesOf(ctx, m).map((path) => ({ path, label: 0 }));
      const dataset: Dataset = { name: 'images', root: ctx.dir, splits: { test: samples } };
      try {
        const c0 = cpuMs();
        const t0 = performance.now();
        const embeddings = await embedSamples(engine, input, dataset, samples, {
          batchSize: batchOf(ctx, m),
          pipeline: pipelineOf(ctx, m),
          silent: true,
        });
        const n = samples.length;
        scope(() => saveNpy(npyOf(ctx, name, m, round), tensor(embeddings, { shape: [n, engine.dim] })));
        const seconds = (performance.now() - t0) / 1000;
        return { imagesPerSecond: n / seconds, cpuMsPerImage: (cpuMs() - c0) / n };
      } finally {
        engine.dispose();
      }
    },
  };
}

async function pytorchEmbed(ctx: Context, m: ModelCase, round: number, precision: Precision): Promise<SideResult> {
  const reply = await ctx.python.request<{ imagesPerSecond: number; cpuSeconds: number; images: number }>({
    cmd: 'embed',
    files: filesOf(ctx, m),
    arch: m.arch,
    resize: m.resize,
    resizeMode: m.resizeMode,
    filter: m.filter,
    crop: m.crop,
    dim: DIM,
    ...(ctx.dinov2 ? { dinov2: ctx.dinov2 } : {}),
    batch: batchOf(ctx, m),
    workers: availableParallelism(),
    precision,
    seed: SEED,
    out: npyOf(ctx, `pytorch-${precision}`, m, round),
  });
  return { imagesPerSecond: reply.imagesPerSecond, cpuMsPerImage: (reply.cpuSeconds * 1000) / reply.images };
}

/** The sides, in the order they run; add an engine or a precision here. */
export const SIDES: readonly Side[] = [
  oursSide('libtorch', 'fp32'),
  oursSide('libtorch', 'bf16'),
  oursSide('onnxruntime', 'fp32'),
  ...(['fp32', 'bf16'] as const).map(
    (precision): Side => ({
      name: `pytorch-${precision}`,
      engine: 'pytorch',
      precision,
      run: (ctx, m, r) => pytorchEmbed(ctx, m, r, precision),
    }),
  ),
];

/** The side our default engine runs at a precision (onnxruntime has no bf16: bf16 runs on libtorch). */
function defaultSide(precision: Precision): string {
  return precision === 'bf16' ? 'ours-libtorch-bf16' : `ours-${DEFAULT_ENGINE}-fp32`;
}

/**
 * Images/s of our eval pipeline alone (rate from the first batch to the last, as bench/data), and the
 * CPU time of the whole pass (decode workers' start-up included) per image.
 */
async function oursPipeline(ctx: Context, m: ModelCase): Promise<SideResult> {
  // The architecture's transform (a ViT's shorter-side resize and filter) at the row's sizes.
  const transform = {
    ...transformForInput(archInput(m.arch)),
    resize: { width: m.resize, height: m.resize },
    crop: { width: m.crop, height: m.crop },
  };
  const samples: Sample[] = filesOf(ctx, m).map((path) => ({ path, label: 0 }));
  const loader = new BatchLoader({ dataset: {}, samples, transform, mode: 'eval', workers: ctx.decodeWorkers });
  const chunks: number[][] = [];
  const batch = batchOf(ctx, m);
  for (let s = 0; s < samples.length; s += batch) {
    chunks.push(Array.from({ length: Math.min(batch, samples.length - s) }, (_, i) => s + i));
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
    files: filesOf(ctx, m),
    resize: m.resize,
    resizeMode: m.resizeMode,
    filter: m.filter,
    crop: m.crop,
    batch: batchOf(ctx, m),
    workers: availableParallelism(),
  });
  return { imagesPerSecond: reply.imagesPerSecond, cpuMsPerImage: reply.cpuMsPerImage };
}

/** The architectures with a PyTorch side (reference.py): torchvision's ResNets and ViT-B/16. */
const BENCH_ARCHS = /^(resnet\d+|vit_b_16|dinov2_vits14)$/;

function parseModels(value: string, quick: boolean, dinov2: string | null): ModelCase[] {
  return value.split(',').map((spec) => {
    const match = /^([a-z0-9_]+)@(\d+)$/.exec(spec.trim());
    const arch = match?.[1] ?? '';
    const crop = Number(match?.[2]);
    if (!match || !isArch(arch) || !BENCH_ARCHS.test(arch) || crop < 32) {
      throw new BenchArgsError(
        `--models: expected resnetNN@SIZE, vit_b_16@224 or dinov2_vits14@224[,...], got ${spec}`,
      );
    }
    if (arch.startsWith('dinov2_') && dinov2 === null) {
      throw new BenchArgsError(
        `--models ${spec}: PyTorch's side needs --dinov2 DIR (a facebookresearch/dinov2 checkout)`,
      );
    }
    const spec0 = archInput(arch);
    if (spec0.resize !== undefined) {
      // A ViT: its publisher's eval pipeline, at the one size its position embeddings are for.
      if (crop !== spec0.size) throw new BenchArgsError(`--models: ${arch} takes ${spec0.size}, got ${spec}`);
      return {
        name: `${arch}@${crop}`,
        arch,
        crop,
        resize: spec0.resize,
        resizeMode: spec0.resizeMode ?? 'square',
        filter: spec0.resizeFilter ?? 'bilinear',
        maxImages: quick ? VIT_IMAGES.quick : VIT_IMAGES.full,
      };
    }
    const resize = Math.round((crop * 8) / 7);
    return { name: `${arch}@${crop}`, arch, crop, resize, resizeMode: 'square', filter: 'bilinear', maxImages: null };
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
  waitQuiet: boolean;
  /** Seconds --wait-quiet waits at most. */
  waitQuietMax: number;
  /** A facebookresearch/dinov2 checkout for the dinov2_vits14 row's PyTorch side (never committed). */
  dinov2: string | null;
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
    models: [],
    sides: [...SIDES],
    rounds: quick ? 1 : 2,
    decodeWorkers: DEFAULT_PIPELINE.workers,
    batch: 64,
    waitQuiet: false,
    waitQuietMax: 1800,
    dinov2: null,
  };
  let models: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = argv[i + 1];
    if (flag === '--quick') continue;
    if (flag === '--wait-quiet') {
      a.waitQuiet = true;
      continue;
    }
    i++;
    if (flag === '--threads') a.threads = positive(flag, value);
    else if (flag === '--images') a.images = positive(flag, value);
    else if (flag === '--rounds') a.rounds = positive(flag, value);
    else if (flag === '--decode-workers') a.decodeWorkers = positive(flag, value);
    else if (flag === '--batch') a.batch = positive(flag, value);
    else if (flag === '--wait-quiet-max') a.waitQuietMax = positive(flag, value);
    else if (flag === '--models') models = value ?? '';
    else if (flag === '--dinov2') {
      if (!value) throw new BenchArgsError('--dinov2: expected a facebookresearch/dinov2 checkout');
      a.dinov2 = value;
    } else if (flag === '--sides') {
      a.sides = (value ?? '').split(',').map((name) => {
        const side = SIDES.find((s) => s.name === name.trim());
        if (!side)
          throw new BenchArgsError(`--sides: unknown side ${name}; known: ${SIDES.map((s) => s.name).join(', ')}`);
        return side;
      });
    } else {
      throw new BenchArgsError(
        `unknown argument ${flag} (expected --threads, --quick, --images, --models, --sides, --rounds, --decode-workers, --batch, --wait-quiet, --wait-quiet-max, --dinov2)`,
      );
    }
  }
  // The DINOv2 row runs when its reference code is given.
  const defaults = `resnet50@224,resnet18@112,vit_b_16@224${a.dinov2 ? ',dinov2_vits14@224' : ''}`;
  a.models = parseModels(models ?? defaults, quick, a.dinov2);
  return a;
}

/** The CPU features that decide fp32/bf16 speed, from /proc/cpuinfo (empty elsewhere). */
function cpuFlags() {
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
  return { flags, bf16: cpuBf16Support() };
}

/**
 * Waits until the 1-minute load average is under QUIET_LOAD (polling every QUIET_POLL_S seconds) or
 * `maxSeconds` have passed; what it saw goes into the JSON.
 */
async function waitQuiet(maxSeconds: number) {
  const start = performance.now();
  const waited = () => (performance.now() - start) / 1000;
  let load = loadavg()[0] ?? 0;
  while (load >= QUIET_LOAD && waited() < maxSeconds) {
    process.stderr.write(
      `[bench/embed] waiting for a quiet machine: 1-minute load average ${load.toFixed(2)}, ` +
        `want < ${QUIET_LOAD} (${Math.round(waited())} s of at most ${maxSeconds} s)\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, QUIET_POLL_S * 1000));
    load = loadavg()[0] ?? 0;
  }
  const quiet = load < QUIET_LOAD;
  if (!quiet) progress(`still not quiet after ${maxSeconds} s: running anyway (recorded in the JSON)`);
  return { threshold: QUIET_LOAD, waitedSeconds: Math.round(waited()), quiet, loadAverage1m: round(load, 2) };
}

/** Mean and min row cosine of two [N, D] .npy files (unit rows, but normalised here anyway). */
function agreement(a: string, b: string): { meanCosine: number; minCosine: number } {
  const [x, y] = [a, b].map((f) => {
    const t = loadNpy(f);
    try {
      return { data: t.toTypedArray() as Float32Array, dim: t.size(1) };
    } finally {
      t.dispose();
    }
  }) as [{ data: Float32Array; dim: number }, { data: Float32Array; dim: number }];
  let sum = 0;
  let min = 1;
  const rows = x.data.length / x.dim;
  for (let r = 0; r < rows; r++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = r * x.dim; i < (r + 1) * x.dim; i++) {
      const u = x.data[i] as number;
      const v = y.data[i] as number;
      ab += u * v;
      aa += u * u;
      bb += v * v;
    }
    const c = ab / Math.sqrt(aa * bb);
    sum += c;
    min = Math.min(min, c);
  }
  return { meanCosine: round(sum / rows, 6), minCosine: round(min, 6) };
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
    // After the JPEGs are written and Python is up, so that their own load has time to decay too.
    const quiet = args.waitQuiet ? await waitQuiet(args.waitQuietMax) : null;
    const loadAverage1mAtStart = round(loadavg()[0] ?? 0, 2);
    const ctx: Context = {
      files,
      dir,
      threads: args.threads,
      batch: args.batch,
      // The loader never starts more decode workers than cores.
      decodeWorkers: Math.min(args.decodeWorkers, availableParallelism()),
      python,
      dinov2: args.dinov2,
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
      // Each of our sides over PyTorch at the same precision; the default engine's are the targets.
      const ratios: Record<string, number> = {};
      for (const ours of args.sides.filter((s) => s.engine === 'ours')) {
        const torch = args.sides.find((s) => s.engine === 'pytorch' && s.precision === ours.precision);
        if (torch)
          ratios[`${ours.name}/${torch.name}`] = round((rate[ours.name] as number) / (rate[torch.name] as number), 3);
      }
      const defaultEngineOverPytorch: Partial<Record<Precision, { ratio: string; value: number; met: boolean }>> = {};
      for (const precision of ['fp32', 'bf16'] as const) {
        const key = `${defaultSide(precision)}/pytorch-${precision}`;
        const value = ratios[key];
        if (value !== undefined) {
          defaultEngineOverPytorch[precision] = { ratio: key, value, met: value >= TARGETS.defaultEngineOverPytorch };
        }
      }
      // Round 0's embeddings of each side against its engine family's fp32 ones (same weights).
      const agreements: Record<string, { meanCosine: number; minCosine: number }> = {};
      for (const side of args.sides) {
        const base = side.engine === 'ours' ? 'ours-libtorch-fp32' : 'pytorch-fp32';
        if (side.name === base || !args.sides.some((s) => s.name === base)) continue;
        agreements[`${side.name}~${base}`] = agreement(npyOf(ctx, side.name, m, 0), npyOf(ctx, base, m, 0));
      }
      const pipelineOurs = median(pipeline.ours.map((p) => p.imagesPerSecond));
      const pipelineTorch = median(pipeline.torchvision.map((p) => p.imagesPerSecond));
      const cpuOf = (list: SideResult[]) => round(median(list.map((p) => p.cpuMsPerImage ?? Number.NaN)), 2);
      models.push({
        model: m.name,
        arch: m.arch,
        resize: m.resize,
        resizeMode: m.resizeMode,
        filter: m.filter,
        crop: m.crop,
        images: filesOf(ctx, m).length,
        batch: batchOf(ctx, m),
        dim: DIM,
        sides,
        ratios,
        defaultEngineOverPytorch,
        agreement: agreements,
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
          defaultEngineOverPytorch: {
            fp32: defaultEngineOverPytorch.fp32?.met ?? null,
            bf16: defaultEngineOverPytorch.bf16?.met ?? null,
          },
          pipelineOverTorchvision: pipelineOurs / pipelineTorch >= TARGETS.pipelineOverTorchvision,
        },
      });
    }
    const result = {
      benchmark: 'embed',
      quick: args.quick,
      machine,
      loadAverage1m: { atStart: loadAverage1mAtStart, atEnd: round(loadavg()[0] ?? 0, 2) },
      waitQuiet: quiet,
      cpu: cpuFlags(),
      threads: getNumThreads(),
      defaultEngine: { fp32: defaultSide('fp32'), bf16: defaultSide('bf16') },
      // The loader never starts more decode workers than cores.
      decodeWorkers: Math.min(args.decodeWorkers, availableParallelism()),
      pytorchLoaderWorkers: availableParallelism(),
      libtorch: libtorchVersion().torch,
      onnxruntimeNode: ort.env.versions.common,
      reference,
      images: { count: args.images, width: WIDTH, height: HEIGHT, meanKiB: round(bytes / args.images / 1024, 1) },
      work:
        'JPEG folder -> decode (PIL / ours), square resize (Pillow bilinear), centre crop, ImageNet normalise, ' +
        `embedder forward (backbone, LayerNorm, linear to ${DIM}, L2) in eval mode without autograd, .npy written; ` +
        'bf16 = CPU autocast (libtorch / torch.autocast), onnxruntime = the exported model, BN folded, fp32',
      batch: args.batch,
      rounds: args.rounds,
      models,
      targets: TARGETS,
      // A target whose sides were not run (--sides) counts as not met.
      meetsTargets: models.every(
        (m) =>
          m.meetsTargets.defaultEngineOverPytorch.fp32 === true &&
          m.meetsTargets.defaultEngineOverPytorch.bf16 === true &&
          m.meetsTargets.pipelineOverTorchvision,
      ),
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    python.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await runBenchMain(main);
