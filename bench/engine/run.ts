// Engine benchmark (issue 2 point 9): dispatch overhead per small op and the throughput of a
// ResNet-18 layer1-shaped conv/batch_norm/relu block, ours vs PyTorch eager in the same invocation.
// Usage: node --import tsx bench/engine/run.ts [--threads N] [--quick] [--same-malloc]   (prints one JSON object)
// --same-malloc gives the PyTorch process our malloc policy (native/src/allocator.cpp) through glibc's
// environment variables, which isolates the kernels and dispatch from the allocator difference.
// It also counts page faults per block step on both sides, with our malloc policy and with glibc's
// defaults (NORMSOFTMAX_SYSTEM_MALLOC=1 for ours, no MALLOC_* variables for PyTorch).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocatorPolicy, mmapThreshold } from '../../src/tensor/allocator.js';
import { getNumThreads, libtorchVersion, setNumThreads } from '../../src/tensor/index.js';
import { parseBenchArgs, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { findTorchPython, PythonWorker } from '../common/python.js';
import { median, round, timePerIteration } from '../common/timing.js';
import { BLOCK, prepareBlock } from './block.js';
import { DISPATCH_CASES } from './dispatch-cases.js';
import { blockFaults, blockFaultsInChild, type Faults } from './faults.js';

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
// What native/src/allocator.cpp set with mallopt (in this process), as glibc environment variables.
const policy = allocatorPolicy();
const OUR_MALLOC_POLICY: Record<string, string> = policy.active
  ? {
      MALLOC_MMAP_THRESHOLD_: String(mmapThreshold(policy)),
      MALLOC_TRIM_THRESHOLD_: String(policy.settings.find((s) => s.name === 'M_TRIM_THRESHOLD')?.value),
    }
  : {};
const ourMalloc = policy.active ? `${policy.note} (${JSON.stringify(OUR_MALLOC_POLICY)})` : policy.note;
// glibc's defaults for the PyTorch side: none of our variables (nor the user's).
const GLIBC_DEFAULTS = { MALLOC_MMAP_THRESHOLD_: undefined, MALLOC_TRIM_THRESHOLD_: undefined };

/** Page faults per block step of a fresh reference process with `env`. */
async function referenceFaults(
  python: string,
  env: Record<string, string | undefined>,
  threads: number,
  iterations: number,
): Promise<Faults> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
  const worker = new PythonWorker(python, REFERENCE_SCRIPT, childEnv);
  try {
    await worker.request({ cmd: 'setup', threads });
    return await worker.request<Faults>({ cmd: 'faults', iterations });
  } finally {
    worker.close();
  }
}

function progress(message: string): void {
  process.stderr.write(`[bench/engine] ${message}\n`);
}

interface Samples {
  ours: number[];
  reference: number[];
}

/** One sample of each side; callers alternate which goes first, so that neither always follows the other. */
async function samplePair(
  oursFirst: boolean,
  ours: () => number,
  reference: () => Promise<number>,
  into: Samples,
): Promise<void> {
  if (oursFirst) into.ours.push(ours());
  into.reference.push(await reference());
  if (!oursFirst) into.ours.push(ours());
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const sameMalloc = argv.includes('--same-malloc');
  const args = parseBenchArgs(argv.filter((a) => a !== '--same-malloc'));
  const python = findTorchPython();
  if (python === null) {
    throw new Error('no python3 with torch found (tried python3, /usr/bin/python3): apt install python3-torch');
  }
  setNumThreads(args.threads);
  const worker = new PythonWorker(python, REFERENCE_SCRIPT, sameMalloc ? OUR_MALLOC_POLICY : {});
  try {
    const machine = machineInfo();
    const reference = await worker.request<ReferenceSetup>({ cmd: 'setup', threads: args.threads });
    const ask = async (message: object) => (await worker.request<Timing>(message)).nsPerIteration;

    // Rounds are the outer loop, so each case's samples spread over the whole run and a burst of
    // load from other processes lands on a few samples of many cases, not on all of one case.
    const dispatchRounds = args.quick ? 3 : 31;
    const cases = DISPATCH_CASES.map((c) => {
      const iterations = args.quick ? Math.ceil(c.iterations / 5) : c.iterations;
      return { c, iterations, body: c.prepare(), request: { cmd: 'dispatch', case: c.name, iterations } };
    });
    const dispatchSamples = cases.map((): Samples => ({ ours: [], reference: [] }));
    progress(`dispatch: ${cases.length} cases x ${dispatchRounds} rounds`);
    for (const k of cases) {
      k.body(k.iterations); // warm-up: JIT, allocator caches
      await ask(k.request);
    }
    for (let r = 0; r < dispatchRounds; r++) {
      for (const [i, k] of cases.entries()) {
        const ours = () => timePerIteration(k.body, k.iterations);
        await samplePair(r % 2 === 0, ours, () => ask(k.request), dispatchSamples[i] as Samples);
      }
    }
    const dispatch = cases.map(({ c }, i) => {
      const samples = dispatchSamples[i] as Samples;
      const oursUs = median(samples.ours) / c.ops / 1000;
      const referenceUs = median(samples.reference) / c.ops / 1000;
      return {
        name: c.name,
        description: c.description,
        ours: round(oursUs),
        reference: round(referenceUs),
        ratio: round(oursUs / referenceUs),
      };
    });

    progress('conv/batch_norm/relu block');
    const blockRepeats = args.quick ? 2 : 25;
    const step = prepareBlock();
    const blockRequest = { cmd: 'block', iterations: 1 };
    step(); // warm-up: oneDNN primitive caches, allocator
    await ask(blockRequest);
    const blockSamples: Samples = { ours: [], reference: [] };
    for (let r = 0; r < blockRepeats; r++) {
      await samplePair(
        r % 2 === 0,
        () => timePerIteration(step, 1),
        () => ask(blockRequest),
        blockSamples,
      );
    }
    const blockNs = { ours: median(blockSamples.ours), reference: median(blockSamples.reference) };
    const oursImages = BLOCK.batch / (blockNs.ours / 1e9);
    const referenceImages = BLOCK.batch / (blockNs.reference / 1e9);

    progress('page faults per block step: ours and PyTorch, with our malloc policy and with glibc defaults');
    const faultSteps = args.quick ? 2 : 10;
    const pageFaults = {
      unit: 'page faults per block step after 3 warm-up steps (getrusage: minor = page mapped again, major = read from disk)',
      steps: faultSteps,
      ours: {
        thisProcess: blockFaults(faultSteps, step),
        ourPolicy: blockFaultsInChild(faultSteps, args.threads, {
          NORMSOFTMAX_SYSTEM_MALLOC: undefined,
          ...GLIBC_DEFAULTS,
        }),
        glibcDefaults: blockFaultsInChild(faultSteps, args.threads, {
          NORMSOFTMAX_SYSTEM_MALLOC: '1',
          ...GLIBC_DEFAULTS,
        }),
      },
      reference: {
        ourPolicy: await referenceFaults(python, { ...GLIBC_DEFAULTS, ...OUR_MALLOC_POLICY }, args.threads, faultSteps),
        glibcDefaults: await referenceFaults(python, GLIBC_DEFAULTS, args.threads, faultSteps),
      },
    };

    const geomean = Math.exp(dispatch.reduce((s, d) => s + Math.log(d.ratio), 0) / dispatch.length);
    const blockRatio = oursImages / referenceImages;
    const result = {
      benchmark: 'engine',
      command: `node --import tsx bench/engine/run.ts --threads ${args.threads}${args.quick ? ' --quick' : ''}${sameMalloc ? ' --same-malloc' : ''}`,
      quick: args.quick,
      threads: args.threads,
      machine,
      ours: {
        libtorch: libtorchVersion().torch,
        threads: getNumThreads(),
        node: process.version,
        malloc: ourMalloc,
        mallopt: policy.settings,
      },
      reference: {
        torch: reference.torch,
        threads: reference.threads,
        python: reference.python,
        executable: python,
        malloc: sameMalloc ? 'ours (--same-malloc)' : 'glibc defaults',
      },
      dispatch: {
        unit: 'microseconds per op (median); ratio = ours / reference, lower is better',
        samples: dispatchRounds,
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
        // Each pair was taken back to back, so the median of per-pair ratios is less sensitive to
        // load that changes during the run than the ratio of medians.
        pairedRatio: round(median(blockSamples.ours.map((ns, i) => (blockSamples.reference[i] as number) / ns))),
        msPerStep: { ours: round(blockNs.ours / 1e6, 1), reference: round(blockNs.reference / 1e6, 1) },
        msPerStepSamples: {
          ours: blockSamples.ours.map((ns) => round(ns / 1e6, 1)),
          reference: blockSamples.reference.map((ns) => round(ns / 1e6, 1)),
        },
      },
      pageFaults,
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
