// Evaluation benchmark (issue 5 point 6): Recall@K of 60,000 x 2048 embeddings searched against
// themselves (self excluded; K = 1, 10, 100, 1000 as for SOP), float (inner product) and binary
// (Hamming on bit = x > 0), ours vs faiss IndexFlatIP / IndexBinaryFlat with the same threads.
// Each side runs in its own process (peak memory is per process), alternating which goes first.
// Usage: node --import tsx bench/eval/run.ts [--threads N] [--quick] [--items N] [--repeats N]
//   --quick: 6,000 items; --items: another size; --repeats: runs per side (best is kept; default 1,
//   each full-size run takes minutes). Prints one JSON object.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveNpy } from '../../src/io/npy.js';
import { arange, F, Generator, libtorchVersion, randn, scope } from '../../src/tensor/index.js';
import { BenchArgsError, parseBenchArgs, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { round } from '../common/timing.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const PYTHON = '/usr/bin/python3';
const KS = [1, 10, 100, 1000];
const DIM = 2048;
const PER_CLASS = 5;

interface SideResult {
  seconds: number;
  cpuSeconds: number;
  recall: Record<string, number>;
  peakRssMiB: number;
  faiss?: string;
}

function progress(message: string): void {
  process.stderr.write(`[bench/eval] ${message}\n`);
}

/**
 * Unit vectors in classes of PER_CLASS around random centres, noisy enough that Recall@1 is far
 * from 100% (as for SOP): the data is written once per size into a gitignored cache.
 */
function prepareData(n: number): string {
  const dir = join(ROOT, '.cache', 'bench-eval', `n${n}-d${DIM}`);
  if (existsSync(join(dir, 'labels.npy'))) return dir;
  mkdirSync(dir, { recursive: true });
  scope(() => {
    const generator = new Generator(0);
    const classes = Math.ceil(n / PER_CLASS);
    const labels = arange(n).remainder(classes);
    const centres = randn([classes, DIM], { generator });
    const x = F.normalize(centres.indexSelect(0, labels).add(randn([n, DIM], { generator }).mul(4.5)), { dim: 1 });
    saveNpy(join(dir, 'x.npy'), x);
    saveNpy(join(dir, 'labels.npy'), labels);
  });
  return dir;
}

function runSide(side: 'ours' | 'faiss', mode: 'float' | 'binary', data: string, threads: number): SideResult {
  const env = {
    ...process.env,
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    NORMSOFTMAX_THREADS: String(threads),
  };
  const args = [data, mode, String(threads), KS.join(',')];
  const r =
    side === 'ours'
      ? spawnSync(process.execPath, ['--import', 'tsx', join(HERE, 'ours.ts'), ...args], {
          env,
          encoding: 'utf8',
          cwd: ROOT,
        })
      : spawnSync(PYTHON, [join(HERE, 'reference.py'), ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) {
    const last = (r.stderr || r.error?.message || '').trim().split('\n').pop();
    throw new Error(`${side} ${mode} failed (exit ${r.status}): ${last}`);
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as SideResult;
}

function compare(mode: 'float' | 'binary', data: string, threads: number, repeats: number) {
  // Alternate which side goes first (float starts with ours, binary with faiss), so that changing load
  // from other work falls on both.
  const offset = mode === 'float' ? 0 : 1;
  const ours: SideResult[] = [];
  const faiss: SideResult[] = [];
  for (let r = 0; r < repeats; r++) {
    const order = (r + offset) % 2 === 0 ? (['ours', 'faiss'] as const) : (['faiss', 'ours'] as const);
    for (const side of order) {
      progress(`${mode}: ${side} (run ${r + 1} of ${repeats})`);
      (side === 'ours' ? ours : faiss).push(runSide(side, mode, data, threads));
    }
  }
  const best = (runs: SideResult[]) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const o = best(ours);
  const f = best(faiss);
  return {
    seconds: { ours: round(o.seconds), faiss: round(f.seconds) },
    ratio: round(f.seconds / o.seconds),
    // CPU time of all threads: less sensitive than wall time to other work on a shared machine.
    cpuSeconds: { ours: round(o.cpuSeconds), faiss: round(f.cpuSeconds) },
    cpuRatio: round(f.cpuSeconds / o.cpuSeconds),
    peakRssMiB: {
      ours: Math.round(Math.max(...ours.map((x) => x.peakRssMiB))),
      faiss: Math.round(Math.max(...faiss.map((x) => x.peakRssMiB))),
    },
    recall: { ours: o.recall, faiss: f.recall },
    faissVersion: f.faiss,
  };
}

/** Takes this benchmark's own flags (--items N, --repeats N) out of argv. */
function ownFlags(argv: string[]): { rest: string[]; items?: number; repeats: number } {
  const rest: string[] = [];
  const found: { items?: number; repeats: number } = { repeats: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag !== '--items' && flag !== '--repeats') {
      rest.push(flag);
      continue;
    }
    const value = Number(argv[++i]);
    if (!Number.isInteger(value) || value < (flag === '--items' ? 1001 : 1)) {
      throw new BenchArgsError(
        `${flag}: expected an integer${flag === '--items' ? ' above 1000' : ' >= 1'}, got ${argv[i]}`,
      );
    }
    if (flag === '--items') found.items = value;
    else found.repeats = value;
  }
  return { rest, ...found };
}

async function main(): Promise<void> {
  const own = ownFlags(process.argv.slice(2));
  const args = parseBenchArgs(own.rest);
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import faiss'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`faiss not found for ${PYTHON}: apt install python3-faiss`);
  }
  const n = own.items ?? (args.quick ? 6000 : 60000);
  const repeats = own.repeats;
  const machine = machineInfo();
  progress(`data: ${n} x ${DIM}, ${PER_CLASS} per class`);
  const data = prepareData(n);
  const float = compare('float', data, args.threads, repeats);
  const binary = compare('binary', data, args.threads, repeats);
  const result = {
    benchmark: 'eval',
    command: `node --import tsx bench/eval/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
    quick: args.quick,
    threads: args.threads,
    machine,
    ours: { libtorch: libtorchVersion().torch, node: process.version },
    data: { items: n, dimension: DIM, perClass: PER_CLASS, ks: KS, protocol: 'query set = gallery, self excluded' },
    unit: 'wall seconds for index/search + Recall@K (best of runs); ratio = faiss / ours, higher is better',
    repeats,
    float,
    binary,
    storage: { floatBytesPerItem: DIM * 4, binaryBytesPerItem: DIM / 8 },
    targets: { floatRatioAtLeast1: float.ratio >= 1, binaryRatioAtLeast1: binary.ratio >= 1 },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await runBenchMain(main);
