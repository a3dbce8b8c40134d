// Exact search benchmark (issue 21 points 1-2): the batched scan kernels (src/tensor/kernels/scan.ts) on
// 50,000 x 128 clustered unit vectors, in process, against faiss IndexFlatIP in the same run:
//   - float32 at batches of 1, 16 and 256 queries: our queries/s, faiss', and the libtorch-matmul k-NN the
//     search engine used before (src/eval/knn.ts), and whether our hits are faiss' (target: at least faiss'
//     queries/s at every batch, same results);
//   - f16 and i8 storage scanned as stored (i8 with float queries, and with int8 queries): queries/s, the
//     ratio to our float32 scan and recall@10 against it (target: i8 at >= 2x float32 at recall@10 >= 0.99).
// Queries are vectors drawn like the items (not items), k = 10. One JSON object on stdout; progress on stderr.
// Usage: node --import tsx bench/search/exact.ts [--threads N] [--quick]
//   --quick: 512 queries, 2 repeats: a smoke run, not figures to publish.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { knnInnerProduct } from '../../src/eval/knn.js';
import { saveNpy } from '../../src/io/npy.js';
import { arange, F, Generator, libtorchVersion, randn, scope, setNumThreads, tensor } from '../../src/tensor/index.js';
import { defaultSimdLevel, type StoredVectors, scanInnerProduct, simdLevels } from '../../src/tensor/kernels/scan.js';
import { native } from '../../src/tensor/native.js';
import { BenchArgsError, parseBenchArgs, runBenchMain } from '../common/args.js';
import { cpuFlags, machineInfo } from '../common/machine.js';
import { PythonWorker } from '../common/python.js';
import { inTurn, round } from '../common/timing.js';
import { recallAtK, splitIds } from './measures.js';
import { HERE, K, NOISE, PYTHON, ROOT } from './setting.js';

const ITEMS = 50_000;
const DIM = 128;
const CLUSTERS = 1000;
const BATCHES = [1, 16, 256];
const RECALL_FLOOR = 0.99;

const FULL = { queries: 2048, repeats: 5 };
const QUICK = { queries: 512, repeats: 2 };

function progress(message: string): void {
  process.stderr.write(`[bench/search/exact] ${message}\n`);
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** Items and queries: unit vectors around seeded Gaussian centres plus Gaussian noise (as bench/search). */
function prepareData(queries: number): { dir: string; x: Float32Array; q: Float32Array } {
  const dir = join(ROOT, '.cache', 'bench-search-exact', `n${ITEMS}-q${queries}-c${CLUSTERS}-d${DIM}-noise${NOISE}`);
  return scope(() => {
    const generator = new Generator(0);
    const centres = randn([CLUSTERS, DIM], { generator });
    const draw = (n: number) =>
      F.normalize(
        centres.indexSelect(0, arange(n).remainder(CLUSTERS)).add(randn([n, DIM], { generator }).mul(NOISE)),
        { dim: 1 },
      );
    const x = draw(ITEMS);
    const q = draw(queries);
    if (!existsSync(join(dir, 'q.npy'))) {
      mkdirSync(dir, { recursive: true });
      saveNpy(join(dir, 'x.npy'), x);
      saveNpy(join(dir, 'q.npy'), q);
    }
    return { dir, x: x.toTypedArray() as Float32Array, q: q.toTypedArray() as Float32Array };
  });
}

/** 1 / the L2 norm of each row (0 for a zero row): row scales that renormalise, as the engine does on load. */
function inverseNorms(values: ArrayLike<number>, n: number, dim: number): Float32Array {
  const out = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let j = r * dim; j < (r + 1) * dim; j++) ss += (values[j] as number) ** 2;
    out[r] = ss === 0 ? 0 : 1 / Math.sqrt(ss);
  }
  return out;
}

/** f16 rounded to nearest even (libtorch), renormalised by row scales. */
function toF16(x: Float32Array): StoredVectors {
  const { bits, decoded } = scope(() => {
    const h = tensor(x).to('float16');
    return {
      bits: new Uint16Array(native.toBuffer(h.handle)),
      decoded: h.to('float32').toTypedArray() as Float32Array,
    };
  });
  return { precision: 'f16', data: bits, n: ITEMS, dim: DIM, rowScales: inverseNorms(decoded, ITEMS, DIM) };
}

/** i8 as src/search/precision.ts stores it (scale = max|x| / 127 per row), renormalised by row scales. */
function toI8(x: Float32Array): StoredVectors {
  const data = new Int8Array(x.length);
  for (let r = 0; r < ITEMS; r++) {
    let max = 0;
    for (let j = r * DIM; j < (r + 1) * DIM; j++) max = Math.max(max, Math.abs(x[j] as number));
    const scale = Math.fround(max / 127);
    if (scale === 0) continue;
    for (let j = r * DIM; j < (r + 1) * DIM; j++) {
      data[j] = Math.max(-127, Math.min(127, Math.round((x[j] as number) / scale)));
    }
  }
  return { precision: 'i8', data, n: ITEMS, dim: DIM, rowScales: inverseNorms(data, ITEMS, DIM) };
}

interface Run {
  seconds: number;
  rows: Int32Array;
  scores: Float32Array;
}

/** Every query, `batch` at a time, through the scan kernels. */
function scanAll(stored: StoredVectors, q: Float32Array, batch: number, threads: number, int8Queries: boolean): Run {
  const nq = q.length / DIM;
  const rows = new Int32Array(nq * K);
  const scores = new Float32Array(nq * K);
  let total = 0;
  for (let s = 0; s < nq; s += batch) {
    const chunk = q.subarray(s * DIM, Math.min(nq, s + batch) * DIM);
    const start = process.hrtime.bigint();
    const hits = scanInnerProduct(stored, chunk, { k: K, threads, int8Queries });
    total += seconds(start);
    rows.set(hits.rows, s * K);
    scores.set(hits.scores, s * K);
  }
  return { seconds: total, rows, scores };
}

/** The same through evaluation's k-NN (libtorch matmul tiles + selection), the engine's exact path before. */
function matmulAll(x: Float32Array, q: Float32Array, batch: number): number {
  const nq = q.length / DIM;
  return scope(() => {
    const g = tensor(x, { shape: [ITEMS, DIM] });
    let total = 0;
    for (let s = 0; s < nq; s += batch) {
      const m = Math.min(batch, nq - s);
      const chunk = q.slice(s * DIM, (s + m) * DIM);
      const start = process.hrtime.bigint();
      scope(() => knnInnerProduct(tensor(chunk, { shape: [m, DIM] }), g, K));
      total += seconds(start);
    }
    return total;
  });
}

function best<T extends { seconds: number }>(runs: T[]): T {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

/** Queries whose k rows are faiss' in the same order, and the largest score difference at any position. */
function compareWithFaiss(ours: Run, ids: number[][], scores: number[][]) {
  let same = 0;
  let maxDifference = 0;
  ids.forEach((row, q) => {
    if (row.every((id, j) => id === ours.rows[q * K + j])) same++;
    row.forEach((_, j) => {
      const d = Math.abs((scores[q]?.[j] as number) - (ours.scores[q * K + j] as number));
      maxDifference = Math.max(maxDifference, d);
    });
  });
  return { same, maxDifference };
}

const toLists = (rows: Int32Array, nq: number) => splitIds(rows, nq, K);

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import faiss'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`faiss not found for ${PYTHON}: apt install python3-faiss`);
  }
  if (args.threads < 1) throw new BenchArgsError('--threads: expected a positive integer');
  const s = args.quick ? QUICK : FULL;
  const loadBefore = loadavg().map((l) => round(l, 2));
  const machine = machineInfo();
  setNumThreads(args.threads);
  progress(`data: ${ITEMS} x ${DIM} in ${CLUSTERS} clusters, ${s.queries} queries`);
  const { dir, x, q } = prepareData(s.queries);
  const nq = s.queries;
  const f32: StoredVectors = { precision: 'f32', data: x, n: ITEMS, dim: DIM };
  const stores = { f16: toF16(x), i8: toI8(x) };
  const worker = new PythonWorker(PYTHON, join(HERE, 'exact_reference.py'));
  try {
    const loaded = await worker.request<{ faiss: string }>({ op: 'load', dir });
    const float32: Record<string, unknown> = {};
    const ours: Record<number, Run> = {};
    const failures: string[] = [];
    // Both sides at 1 thread and at --threads: on a busy machine more threads can be slower (faiss' OpenMP
    // and OpenBLAS threads especially), and the target compares each side at its best.
    const threadCounts = [...new Set([args.threads, 1])];
    for (const batch of BATCHES) {
      const qps: Record<string, Record<string, number>> = { ours: {}, faiss: {} };
      let bestOurs: Run | null = null;
      let bestTheirs: { seconds: number; ids: number[][]; scores: number[][] } | null = null;
      for (const threads of threadCounts) {
        progress(`float32, batches of ${batch}, ${threads} thread${threads > 1 ? 's' : ''}`);
        scanAll(f32, q.subarray(0, Math.min(nq, batch) * DIM), batch, threads, false); // warm-up
        const mine: Run[] = [];
        const theirs: { seconds: number; ids: number[][]; scores: number[][] }[] = [];
        // Alternate which side goes first, so that load from other work hits both alike.
        for (let r = 0; r < s.repeats; r++) {
          const runOurs = () => mine.push(scanAll(f32, q, batch, threads, false));
          const runTheirs = async () => theirs.push(await worker.request({ op: 'flat', k: K, batch, threads }));
          await inTurn(r, runOurs, runTheirs);
        }
        const o = best(mine);
        const t = best(theirs);
        (qps.ours as Record<string, number>)[`threads${threads}`] = round(nq / o.seconds, 1);
        (qps.faiss as Record<string, number>)[`threads${threads}`] = round(nq / t.seconds, 1);
        if (threads === args.threads) ours[batch] = o;
        if (bestOurs === null || o.seconds < bestOurs.seconds) bestOurs = o;
        if (bestTheirs === null || t.seconds < bestTheirs.seconds) bestTheirs = t;
      }
      const o = bestOurs as Run;
      const t = bestTheirs as { seconds: number; ids: number[][]; scores: number[][] };
      const matmulSeconds = Math.min(...Array.from({ length: s.repeats }, () => matmulAll(x, q, batch)));
      const { same, maxDifference } = compareWithFaiss(o, t.ids, t.scores);
      const ratio = t.seconds / o.seconds;
      if (ratio < 1) failures.push(`batch ${batch}: ${round(nq / o.seconds, 1)} vs faiss ${round(nq / t.seconds, 1)}`);
      float32[`batch${batch}`] = {
        queriesPerSecond: { ...qps, libtorchMatmulKnn: round(nq / matmulSeconds, 1) },
        ratioBestVsBestFaiss: round(ratio),
        ratioVsLibtorchMatmulKnn: round(matmulSeconds / (ours[batch] as Run).seconds),
        sameRowsAsFaiss: `${same} of ${nq} queries`,
        recallAt10OfFaissVsOurs: round(recallAtK(toLists(o.rows, nq), t.ids, K), 4),
        maxScoreDifferenceVsFaiss: maxDifference,
      };
    }

    const truth = (batch: number) => toLists((ours[batch] as Run).rows, nq);
    const quantized: Record<string, unknown> = {};
    const i8Failures: string[] = [];
    const variants: [string, StoredVectors, boolean][] = [
      ['f16', stores.f16, false],
      ['i8 (float queries)', stores.i8, false],
      ['i8 (int8 queries)', stores.i8, true],
    ];
    for (const [name, stored, int8Queries] of variants) {
      const entry: Record<string, unknown> = {};
      for (const batch of BATCHES) {
        progress(`${name}, batches of ${batch}`);
        scanAll(stored, q.subarray(0, Math.min(nq, batch) * DIM), batch, args.threads, int8Queries);
        const run = best(Array.from({ length: s.repeats }, () => scanAll(stored, q, batch, args.threads, int8Queries)));
        const recall = round(recallAtK(truth(batch), toLists(run.rows, nq), K), 4);
        const vsFloat32 = (ours[batch] as Run).seconds / run.seconds;
        entry[`batch${batch}`] = {
          queriesPerSecond: round(nq / run.seconds, 1),
          ratioVsFloat32: round(vsFloat32),
          recallAt10VsFloat32: recall,
        };
        if (name.startsWith('i8 (int8') && (vsFloat32 < 2 || recall < RECALL_FLOOR)) {
          i8Failures.push(`batch ${batch}: ${round(vsFloat32, 2)}x at recall@10 ${recall}`);
        }
      }
      quantized[name] = entry;
    }

    const result = {
      benchmark: 'search-exact',
      command: `node --import tsx bench/search/exact.ts ${process.argv.slice(2).join(' ')}`.trim(),
      quick: args.quick,
      threads: args.threads,
      machine,
      loadAverage: { before: loadBefore, after: loadavg().map((l) => round(l, 2)) },
      cpuFlags: cpuFlags(),
      simd: { levels: simdLevels(), used: defaultSimdLevel() },
      versions: { libtorch: libtorchVersion().torch, node: process.version, faiss: loaded.faiss },
      data: {
        items: ITEMS,
        dimension: DIM,
        queries: nq,
        clusters: CLUSTERS,
        noisePerCoordinate: NOISE,
        k: K,
        protocol:
          'unit vectors around Gaussian centres (seed 0); queries drawn alike, not items; every query searched, batch at a time; best of repeats',
      },
      unit: 'queries/s (wall time of the search calls) at 1 thread and at --threads; ratios (higher is better for ours): float32 best vs best, quantized vs our float32 at --threads, libtorch-matmul k-NN at --threads',
      repeats: s.repeats,
      float32,
      quantized,
      storage: { float32BytesPerItem: DIM * 4, f16BytesPerItem: DIM * 2, i8BytesPerItem: DIM + 4 },
      targets: {
        float32AtLeastFaissAtEveryBatch: failures.length === 0 ? 'met' : `not met (${failures.join('; ')})`,
        i8Int8QueriesTwiceFloat32AtRecall099: i8Failures.length === 0 ? 'met' : `not met (${i8Failures.join('; ')})`,
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    worker.close();
  }
}

await runBenchMain(main);
