// Engine benchmark (issue 2 point 9): dispatch overhead per small op and the throughput of a
// ResNet-18 layer1-shaped conv/batch_norm/relu block, ours vs PyTorch eager in the same invocation.
// Usage: node --import tsx bench/engine/run.ts [--threads N] [--quick]   (prints one JSON object)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getNumThreads, libtorchVersion, setNumThreads } from '../../src/tensor/index.js';
import { parseBenchArgs, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { findTorchPython, PythonWorker } from '../common/python.js';
import { median, round, timePerIteration } from '../common/timing.js';
import { BLOCK, prepareBlock } from './block.js';
import { DISPATCH_CASES } from './dispatch-cases.js';

interface ReferenceSetup {
  torch: string;
  threads: number;
  python: string;
  parallel: string;
}
interface Timing {
  nsPerIteration: number;
}

const REFERENCE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'reference.py');

function progress(message: string): void {
  process.stderr.write(`[bench/engine] ${message}\n`);
}

/**
 * Takes `repeats` samples of each side, alternating which goes first, so that load from other
 * processes falls on both; returns the median nanoseconds per iteration of each.
 */
async function interleaved(
  repeats: number,
  ours: () => number,
  reference: () => Promise<number>,
): Promise<{ ours: number; reference: number }> {
  const oursNs: number[] = [];
  const referenceNs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    if (r % 2 === 0) {
      oursNs.push(ours());
      referenceNs.push(await reference());
    } else {
      referenceNs.push(await reference());
      oursNs.push(ours());
    }
  }
  return { ours: median(oursNs), reference: median(referenceNs) };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const python = findTorchPython();
  if (python === null) {
    throw new Error('no python3 with torch found (tried python3, /usr/bin/python3): apt install python3-torch');
  }
  setNumThreads(args.threads);
  const worker = new PythonWorker(python, REFERENCE_SCRIPT);
  try {
    const machine = machineInfo();
    const reference = await worker.request<ReferenceSetup>({ cmd: 'setup', threads: args.threads });
    const ask = async (message: object) => (await worker.request<Timing>(message)).nsPerIteration;

    const dispatchRepeats = args.quick ? 3 : 15;
    const dispatch = [];
    for (const c of DISPATCH_CASES) {
      progress(`dispatch ${c.name}`);
      const iterations = args.quick ? Math.ceil(c.iterations / 5) : c.iterations;
      const body = c.prepare();
      const request = { cmd: 'dispatch', case: c.name, iterations };
      body(iterations); // warm-up: JIT, allocator caches
      await ask(request);
      const ns = await interleaved(
        dispatchRepeats,
        () => timePerIteration(body, iterations),
        () => ask(request),
      );
      const oursUs = ns.ours / c.ops / 1000;
      const referenceUs = ns.reference / c.ops / 1000;
      dispatch.push({
        name: c.name,
        description: c.description,
        ours: round(oursUs),
        reference: round(referenceUs),
        ratio: round(oursUs / referenceUs),
      });
    }

    progress('conv/batch_norm/relu block');
    const blockRepeats = args.quick ? 2 : 9;
    const step = prepareBlock();
    const blockRequest = { cmd: 'block', iterations: 1 };
    step(); // warm-up: oneDNN primitive caches, allocator
    await ask(blockRequest);
    const blockNs = await interleaved(
      blockRepeats,
      () => timePerIteration(step, 1),
      () => ask(blockRequest),
    );
    const oursImages = BLOCK.batch / (blockNs.ours / 1e9);
    const referenceImages = BLOCK.batch / (blockNs.reference / 1e9);

    const geomean = Math.exp(dispatch.reduce((s, d) => s + Math.log(d.ratio), 0) / dispatch.length);
    const blockRatio = oursImages / referenceImages;
    const result = {
      benchmark: 'engine',
      command: `node --import tsx bench/engine/run.ts --threads ${args.threads}${args.quick ? ' --quick' : ''}`,
      quick: args.quick,
      threads: args.threads,
      machine,
      ours: { libtorch: libtorchVersion().torch, threads: getNumThreads(), node: process.version },
      reference: { torch: reference.torch, threads: reference.threads, python: reference.python, executable: python },
      dispatch: {
        unit: 'microseconds per op (median); ratio = ours / reference, lower is better',
        samples: dispatchRepeats,
        cases: dispatch,
        geomeanRatio: round(geomean),
      },
      block: {
        description:
          'forward + backward of [conv2d 3x3 64->64 pad 1 no bias -> batch_norm(train) -> relu] x2 on [16, 64, 56, 56]',
        unit: 'images per second (median step); ratio = ours / reference, higher is better',
        samples: blockRepeats,
        ours: round(oursImages, 1),
        reference: round(referenceImages, 1),
        ratio: round(blockRatio),
        msPerStep: { ours: round(blockNs.ours / 1e6, 1), reference: round(blockNs.reference / 1e6, 1) },
      },
      targets: {
        throughputRatioAtLeast1: blockRatio >= 1,
        dispatchNoSlowerThanPython: geomean <= 1,
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    worker.close();
  }
}

await runBenchMain(main);
