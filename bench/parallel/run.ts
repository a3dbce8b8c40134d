// Data-parallel step time (issue 12 point 6): ResNet-18 at 112x112, global batch 32, as 1 process x 2
// threads and 2 processes x 1 thread, with us (src/parallel: c10d Gloo, 25 MB buckets) and with PyTorch DDP
// (Gloo, torchrun-style environment), in one run. Reports steps/s, the communication time per step,
// our ratio to DDP, and a paper model of SOP epoch times on 1, 2, 4, 8 machines of this kind.
// Usage: node --import tsx bench/parallel/run.ts [--quick] [--network-gbps G]   (prints one JSON object)
// --quick: ResNet-18 at 56x56, global batch 8, 2 steps: a smoke run, not figures.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { libtorchVersion } from '../../src/tensor/index.js';
import { runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { findTorchPython } from '../common/python.js';
import { median, round } from '../common/timing.js';

const HERE = import.meta.dirname;
/** SOP's training split and the paper's SOP recipe batch (for the scaling model). */
const SOP = { trainImages: 59_551, batch: 75 };

interface RankReport {
  processes: number;
  threads: number;
  msPerStep: number[];
  commMsPerStep?: number;
  gradientBytes?: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs `processes` copies of a command with torchrun's variables; resolves with rank 0's JSON line. */
async function runJob(command: string[], processes: number, threads: number): Promise<RankReport> {
  const port = await freePort();
  const runs = Array.from({ length: processes }, (_, rank) => {
    const dist =
      processes > 1
        ? {
            RANK: String(rank),
            WORLD_SIZE: String(processes),
            LOCAL_RANK: String(rank),
            LOCAL_WORLD_SIZE: String(processes),
            MASTER_ADDR: '127.0.0.1',
            MASTER_PORT: String(port),
          }
        : {};
    const env = { ...process.env, ...dist, NORMSOFTMAX_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
    const child = spawn(command[0] as string, command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    return new Promise<string>((resolve, reject) =>
      child.on('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`${command.join(' ')} rank ${rank}: ${err.slice(-500)}`)),
      ),
    );
  });
  const outs = await Promise.all(runs);
  return JSON.parse((outs[0] as string).trim().split('\n').pop() as string) as RankReport;
}

function summary(r: RankReport) {
  const ms = median(r.msPerStep);
  return {
    processes: r.processes,
    threadsPerProcess: r.threads,
    msPerStepMedian: round(ms, 1),
    stepsPerSecond: round(1000 / ms, 3),
    ...(r.commMsPerStep !== undefined ? { commMsPerStep: round(r.commMsPerStep, 1) } : {}),
  };
}

function parseArgs(argv: string[]): { quick: boolean; networkGbps: number } {
  let quick = false;
  let networkGbps = 10;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') quick = true;
    else if (argv[i] === '--network-gbps') networkGbps = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (expected --quick or --network-gbps G)`);
  }
  if (!(networkGbps > 0)) throw new Error('--network-gbps: expected a positive number');
  return { quick, networkGbps };
}

await runBenchMain(async () => {
  const { quick, networkGbps } = parseArgs(process.argv.slice(2));
  const [arch, size, batch, steps] = quick ? ['resnet18', 56, 8, 2] : ['resnet18', 112, 32, 5];
  const caseArgs = [arch, String(size), String(batch), String(steps)];
  const ours = [process.execPath, '--import', 'tsx', join(HERE, 'ours-rank.ts'), ...caseArgs];
  const python = findTorchPython();
  const layouts = [
    { processes: 1, threads: 2 },
    { processes: 2, threads: 1 },
  ];
  const results: Record<string, ReturnType<typeof summary>> = {};
  const raw: Record<string, RankReport> = {};
  for (const { processes, threads } of layouts) {
    const key = `${processes}x${threads}`;
    process.stderr.write(`[bench/parallel] ours ${key}\n`);
    raw[`ours ${key}`] = await runJob(ours, processes, threads);
    results[`ours ${key}`] = summary(raw[`ours ${key}`] as RankReport);
    if (python) {
      process.stderr.write(`[bench/parallel] pytorch ${key}\n`);
      raw[`pytorch ${key}`] = await runJob([python, join(HERE, 'ddp_rank.py'), ...caseArgs], processes, threads);
      results[`pytorch ${key}`] = summary(raw[`pytorch ${key}`] as RankReport);
    }
  }
  const ratio = (key: string) => {
    const o = results[`ours ${key}`];
    const p = results[`pytorch ${key}`];
    return o && p ? round(o.stepsPerSecond / p.stepsPerSecond, 3) : null;
  };
  // The scaling model: each machine runs the measured 1-process step on its share of the global batch
  // (compute scales with images), plus a ring allreduce of the gradients over the network.
  const single = raw['ours 1x2'] as RankReport;
  const two = raw['ours 2x1'] as RankReport;
  const computeMsPerImage = median(single.msPerStep) / batch;
  const gradientBytes = two.gradientBytes ?? 0;
  const stepsPerEpoch = Math.ceil(SOP.trainImages / SOP.batch);
  const machines = [1, 2, 4, 8].map((n) => {
    const allreduceMs = n === 1 ? 0 : ((2 * (n - 1)) / n) * ((gradientBytes * 8) / (networkGbps * 1e9)) * 1000;
    const stepMs = computeMsPerImage * (SOP.batch / n) + allreduceMs;
    return {
      machines: n,
      allreduceMsPerStep: round(allreduceMs, 1),
      epochMinutes: round((stepMs * stepsPerEpoch) / 60_000, 1),
      speedup: 0,
    };
  });
  for (const m of machines) m.speedup = round((machines[0]?.epochMinutes ?? 0) / m.epochMinutes, 2);
  console.log(
    JSON.stringify(
      {
        bench: 'dist',
        quick,
        case: { arch, size, globalBatch: batch, stepsTimed: steps },
        machine: machineInfo(),
        libtorch: libtorchVersion().torch,
        reference: python ? 'PyTorch DDP (Gloo, env://)' : 'none (no python3 with torch)',
        results,
        oursOverPytorch: { '1x2': ratio('1x2'), '2x1': ratio('2x1') },
        communicationOverheadMsPerStep: results['ours 2x1']?.commMsPerStep ?? null,
        scalingModel: {
          note: `SOP (${SOP.trainImages} images, batch ${SOP.batch}) with this case's measured compute per image and a ring allreduce of ${round(gradientBytes / 2 ** 20, 1)} MiB of gradients at ${networkGbps} Gb/s; no overlap of communication with backward`,
          machines,
        },
      },
      null,
      2,
    ),
  );
});
