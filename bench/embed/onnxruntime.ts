// Which forward engine is faster on this CPU (issue 11 point 2; the default of --engine): our libtorch
// forward against onnxruntime-node 1.30 running the exported model (BatchNorm folded, opset 17), on the
// same random-weight embedder and the same input batch, for ResNet-50@224 and ResNet-18@112 at batch 16,
// fp32, both with the same intra-op threads. Timed in alternating rounds so that load from other work hits
// both alike; each sample carries the 1-minute load average and the process CPU time (all threads) the
// batch took. Also the engines' agreement (min row cosine). The image pipeline is not timed: it is the
// same for both engines (bench/embed/run.ts times files to vectors).
// Usage: node --import tsx bench/embed/onnxruntime.ts [--threads N] [--quick]   (prints one JSON object)
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { EmbeddingEngine } from '../../src/embed/engine.js';
import { libtorchEngine } from '../../src/embed/libtorch-engine.js';
import { exportOnnx } from '../../src/embed/onnx/index.js';
import { onnxEngine } from '../../src/embed/onnx-engine.js';
import { type Arch, createEmbedder } from '../../src/nn/embedder.js';
import { Generator, libtorchVersion, setNumThreads } from '../../src/tensor/index.js';
import { parseBenchArgs, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { median, round } from '../common/timing.js';

const load1 = () => round(loadavg()[0] ?? 0, 2);

interface Sample {
  imagesPerSecond: number;
  imagesPerCpuSecond: number;
  load1m: number;
}

async function timeBatch(engine: EmbeddingEngine, batch: Float32Array, shape: number[]): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await engine.embed(batch, shape);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const n = shape[0] as number;
  return { imagesPerSecond: n / seconds, imagesPerCpuSecond: n / cpuSeconds, load1m: load1() };
}

function summarise(samples: Sample[]) {
  return {
    imagesPerSecond: round(median(samples.map((s) => s.imagesPerSecond)), 2),
    imagesPerCpuSecond: round(median(samples.map((s) => s.imagesPerCpuSecond)), 2),
    samples: samples.map((s) => ({
      imagesPerSecond: round(s.imagesPerSecond, 2),
      imagesPerCpuSecond: round(s.imagesPerCpuSecond, 2),
      load1m: s.load1m,
    })),
  };
}

function minRowCosine(a: Float32Array, b: Float32Array, dim: number): number {
  let worst = 1;
  for (let r = 0; r < a.length / dim; r++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      ab += (a[i] as number) * (b[i] as number);
      aa += (a[i] as number) ** 2;
      bb += (b[i] as number) ** 2;
    }
    worst = Math.min(worst, ab / Math.sqrt(aa * bb));
  }
  return worst;
}

async function compare(arch: Arch, size: number, batchSize: number, threads: number, rounds: number) {
  const model = createEmbedder({ arch, dim: 128, generator: new Generator(0) });
  model.eval();
  const bytes = exportOnnx(model, { opset: 17, foldBn: true, dynamicBatch: true });
  const engines: EmbeddingEngine[] = [libtorchEngine(model), await onnxEngine(bytes, `${arch}.onnx`, { threads })];
  const shape = [batchSize, 3, size, size];
  const batch = new Float32Array(batchSize * 3 * size * size).map((_, i) => Math.sin(i * 0.001) * 1.5);
  try {
    const outs = [];
    for (const e of engines) outs.push(await e.embed(batch, shape)); // warm-up (and agreement)
    const samples: Sample[][] = engines.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < engines.length; i++) {
        const idx = r % 2 === 0 ? i : engines.length - 1 - i; // alternate which engine goes first
        (samples[idx] as Sample[]).push(await timeBatch(engines[idx] as EmbeddingEngine, batch, shape));
      }
    }
    const [torch, onnx] = samples.map(summarise);
    return {
      model: `${arch}@${size}`,
      batchSize,
      libtorch: torch,
      onnxruntime: onnx,
      onnxruntimeOverLibtorch: round((onnx?.imagesPerSecond ?? 0) / (torch?.imagesPerSecond ?? 1), 3),
      minRowCosine: round(minRowCosine(outs[0] as Float32Array, outs[1] as Float32Array, 128), 7),
    };
  } finally {
    for (const e of engines) e.dispose();
  }
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  setNumThreads(args.threads);
  const rounds = args.quick ? 1 : 5;
  const loadAtStart = load1();
  const results = [
    await compare('resnet50', 224, 16, args.threads, rounds),
    await compare('resnet18', 112, 16, args.threads, rounds),
  ];
  const faster = results.every((r) => r.onnxruntimeOverLibtorch > 1) ? 'onnxruntime' : 'libtorch';
  console.log(
    JSON.stringify(
      {
        benchmark: 'embed/onnxruntime',
        command: `node --import tsx bench/embed/onnxruntime.ts --threads ${args.threads}${args.quick ? ' --quick' : ''}`,
        quick: args.quick,
        threads: args.threads,
        machine: { ...machineInfo(), loadAverage1m: loadAtStart },
        versions: { libtorch: libtorchVersion(), onnxruntimeNode: ort.env.versions.common },
        results,
        fasterOnEveryModel: faster,
        loadAverage1mAtEnd: load1(),
      },
      null,
      2,
    ),
  );
}

await runBenchMain(main);
