// bf16 against fp32 inference (issue 11 point 5): ResNet-50@224, batch 16, random weights, eval mode;
// ours (the embedder's forward; bf16 = libtorch's CPU autocast through --precision's code path) and
// PyTorch's (torchvision resnet50, torch.no_grad, bf16 = torch.autocast('cpu', dtype=torch.bfloat16))
// timed in alternating rounds so that load from other work hits both sides alike; each figure carries
// the 1-minute load average measured with it, and the CPU time the batch took (all threads of the process:
// on a loaded machine wall time mostly measures the other work, CPU time much less so; at --threads 1
// images per CPU-second approximate a quiet single-threaded run). Also the embedding agreement of bf16 with fp32 (cosine)
// on each side, and the CPU's bf16 support.
// Usage: node --import tsx bench/embed/precision.ts [--threads N] [--quick]   (prints one JSON object)
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { embedBatch } from '../../src/embed/embed-batch.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import {
  getNumThreads,
  libtorchVersion,
  manualSeed,
  noGrad,
  randn,
  scope,
  setNumThreads,
} from '../../src/tensor/index.js';
import type { Precision } from '../../src/tensor/precision.js';
import { cpuBf16Support } from '../../src/util/cpu-bf16.js';
import { parseBenchArgs, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { findTorchPython, PythonWorker } from '../common/python.js';
import { median, round } from '../common/timing.js';

const REFERENCE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'precision.py');
const BATCH = 16;
const SIZE = 224;
const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

interface Sample {
  imagesPerSecond: number;
  /** Images per second of the process's CPU time (user + system, every thread). */
  imagesPerCpuSecond: number;
  loadAverage1m: number;
}

const load1 = () => round(loadavg()[0] ?? 0, 2);

function summarise(samples: Sample[]) {
  return {
    imagesPerSecond: round(median(samples.map((s) => s.imagesPerSecond)), 2),
    imagesPerCpuSecond: round(median(samples.map((s) => s.imagesPerCpuSecond)), 2),
    samples: samples.map((s) => ({
      imagesPerSecond: round(s.imagesPerSecond, 2),
      imagesPerCpuSecond: round(s.imagesPerCpuSecond, 2),
      loadAverage1m: s.loadAverage1m,
    })),
  };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const rounds = args.quick ? 1 : 3;
  const perRound = args.quick ? 1 : 2;
  setNumThreads(args.threads);
  const machine = machineInfo();
  const python = findTorchPython();
  if (python === null) throw new Error('no python3 with torch found: the PyTorch side cannot run');
  const worker = new PythonWorker(python, REFERENCE_SCRIPT);
  manualSeed(0);
  const model = createEmbedder({ arch: 'resnet50' });
  model.eval();
  const images = randn([BATCH, 3, SIZE, SIZE]);
  try {
    const reference = await worker.request<Record<string, unknown>>({
      cmd: 'setup',
      threads: args.threads,
      batch: BATCH,
      size: SIZE,
    });
    const ours: Record<Precision, Sample[]> = { fp32: [], bf16: [] };
    const pytorch: Record<Precision, Sample[]> = { fp32: [], bf16: [] };
    const runOurs = (precision: Precision): Sample => {
      const start = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      scope(() => noGrad(() => embedBatch(model, images, precision).toTypedArray()));
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const used = process.cpuUsage(cpu);
      const cpuSeconds = (used.user + used.system) / 1e6;
      return { imagesPerSecond: BATCH / seconds, imagesPerCpuSecond: BATCH / cpuSeconds, loadAverage1m: load1() };
    };
    for (const p of PRECISIONS) runOurs(p); // warm-up (oneDNN primitive creation, allocator)
    for (let r = 0; r < rounds; r++) {
      // Alternate which side goes first.
      const order = r % 2 === 0 ? ['ours', 'pytorch'] : ['pytorch', 'ours'];
      for (const p of PRECISIONS) {
        for (const side of order) {
          if (side === 'ours') {
            for (let i = 0; i < perRound; i++) {
              ours[p].push(runOurs(p));
            }
          } else {
            const reply = await worker.request<{ secondsPerBatch: number[]; cpuSecondsPerBatch: number[] }>({
              cmd: 'run',
              precision: p,
              iterations: perRound,
            });
            reply.secondsPerBatch.forEach((seconds, i) => {
              const cpuSeconds = reply.cpuSecondsPerBatch[i] as number;
              pytorch[p].push({
                imagesPerSecond: BATCH / seconds,
                imagesPerCpuSecond: BATCH / cpuSeconds,
                loadAverage1m: load1(),
              });
            });
          }
        }
      }
    }
    const ourAgreement = scope(() =>
      noGrad(() => {
        const a = embedBatch(model, images, 'fp32');
        const b = embedBatch(model, images, 'bf16');
        const cos = a.mul(b).sum(1).toArray();
        return { mean: round(cos.reduce((x, y) => x + y, 0) / cos.length, 6), min: round(Math.min(...cos), 6) };
      }),
    );
    const theirAgreement = await worker.request<{ mean: number; min: number }>({ cmd: 'agreement' });
    const o = { fp32: summarise(ours.fp32), bf16: summarise(ours.bf16) };
    const t = { fp32: summarise(pytorch.fp32), bf16: summarise(pytorch.bf16) };
    const result = {
      benchmark: 'embed-precision',
      command: `node --import tsx bench/embed/precision.ts --threads ${args.threads}${args.quick ? ' --quick' : ''}`,
      quick: args.quick,
      machine,
      loadAverage1mAtEnd: load1(),
      cpuBf16: cpuBf16Support(),
      case: { model: 'resnet50 (random weights, eval mode, 2048-d embedding)', batch: BATCH, size: SIZE },
      ours: {
        libtorch: libtorchVersion().torch,
        threads: getNumThreads(),
        ...o,
        bf16OverFp32: round(o.bf16.imagesPerSecond / o.fp32.imagesPerSecond, 3),
        bf16OverFp32Cpu: round(o.bf16.imagesPerCpuSecond / o.fp32.imagesPerCpuSecond, 3),
        agreement: ourAgreement,
      },
      pytorch: {
        ...reference,
        ...t,
        bf16OverFp32: round(t.bf16.imagesPerSecond / t.fp32.imagesPerSecond, 3),
        bf16OverFp32Cpu: round(t.bf16.imagesPerCpuSecond / t.fp32.imagesPerCpuSecond, 3),
        agreement: { mean: round(theirAgreement.mean, 6), min: round(theirAgreement.min, 6) },
      },
      oursOverPytorch: {
        fp32: round(o.fp32.imagesPerSecond / t.fp32.imagesPerSecond, 3),
        bf16: round(o.bf16.imagesPerSecond / t.bf16.imagesPerSecond, 3),
        fp32Cpu: round(o.fp32.imagesPerCpuSecond / t.fp32.imagesPerCpuSecond, 3),
        bf16Cpu: round(o.bf16.imagesPerCpuSecond / t.bf16.imagesPerCpuSecond, 3),
      },
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    images.dispose();
    model.dispose();
    worker.close();
  }
}

await runBenchMain(main);
