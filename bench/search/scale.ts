// bench/search --scale N (issue 21, point 3): `normsoftmax index build --embeddings` of N x 512 clustered unit
// vectors, as a user runs it (its own process: wall time, each stage's time from its progress lines, peak
// resident memory), then the index opened as `serve` opens it (memory-mapped HNSW views, the engine worker)
// and an ef sweep of recall@10 against queries/s, against faiss IndexHNSWFlat built with the same M and
// efConstruction on one thread and searched on one thread (ours: one engine worker, one query at a time).
// Recall is against our exact search of the same index. One JSON object on stdout; progress on stderr.
// Usage: node --import tsx bench/search/run.ts --scale 1m|100k|20k|N [--hnsw-m M] [--hnsw-ef-construction E]
//          [--efs 16,32,64,128,256] [--queries Q]
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIndex } from '../../src/search/open-index.js';
import type { VisualSearchIndex } from '../../src/search/types.js';
import { DEFAULT_HNSW } from '../../src/search/usearch/hnsw.js';
import { arange, F, Generator, randn, scope } from '../../src/tensor/index.js';
import { BenchArgsError } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { PythonWorker } from '../common/python.js';
import { round } from '../common/timing.js';
import { qpsTarget, recallAtK, type SweepPoint } from './measures.js';
import { DIM, HERE, K, NOISE, PYTHON, ROOT } from './setting.js';

const RECALL_FLOOR = 0.95;
/** Items per cluster: 100 (bench/search's 100,000 items in 1,000 clusters). */
const PER_CLUSTER = 100;
const CHUNK = 50_000;

export interface ScaleArgs {
  items: number;
  m: number;
  efConstruction: number;
  efs: number[];
  queries: number;
}

/** "1m", "100k", "20000": items. */
export function parseScale(v: string | undefined): number {
  const m = /^(\d+)(k|m)?$/i.exec(v ?? '');
  const n = m ? Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2] ? 1e3 : 1) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1000 || n > 50_000_000)
    throw new BenchArgsError(`--scale: expected a count of items such as 1m, 100k or 20000 (1000 to 50m), got ${v}`);
  return n;
}

function positive(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new BenchArgsError(`${flag}: expected a positive integer, got ${v}`);
  return n;
}

export function parseScaleArgs(argv: readonly string[]): ScaleArgs {
  const a: ScaleArgs = {
    items: 0,
    m: DEFAULT_HNSW.connectivity,
    efConstruction: DEFAULT_HNSW.expansionAdd,
    efs: [16, 32, 64, 128, 256],
    queries: 1000,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[++i];
    if (flag === '--scale') a.items = parseScale(v);
    else if (flag === '--hnsw-m') a.m = positive(flag, v);
    else if (flag === '--hnsw-ef-construction') a.efConstruction = positive(flag, v);
    else if (flag === '--queries') a.queries = positive(flag, v);
    else if (flag === '--efs') a.efs = (v ?? '').split(',').map((x) => positive(flag, x));
    else
      throw new BenchArgsError(
        `unknown argument ${flag} (expected --scale N, --hnsw-m, --hnsw-ef-construction, --efs, --queries)`,
      );
  }
  if (a.items === 0) throw new BenchArgsError('--scale: required');
  return a;
}

function progress(message: string): void {
  process.stderr.write(`[bench/search --scale] ${message}\n`);
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

function npyHeader(rows: number, cols: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const text = `${dict}${' '.repeat(pad % 64)}\n`;
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, 'latin1')]);
}

/**
 * Items and queries as bench/search draws them (unit vectors around Gaussian centres, seed 0), written in
 * chunks so that this process never holds the items: x.npy (N x 512), q.npy, and x.json (ids = rows).
 */
function prepareData(items: number, queries: number): string {
  const clusters = Math.max(10, Math.round(items / PER_CLUSTER));
  const dir = join(ROOT, '.cache', 'bench-search', `scale-n${items}-q${queries}-c${clusters}-d${DIM}-noise${NOISE}`);
  if (existsSync(join(dir, 'done'))) return dir;
  mkdirSync(dir, { recursive: true });
  scope(() => {
    const generator = new Generator(0);
    const centres = randn([clusters, DIM], { generator });
    const write = (file: string, n: number, first: number) => {
      const fd = openSync(join(dir, file), 'w');
      try {
        writeSync(fd, npyHeader(n, DIM));
        for (let s = 0; s < n; s += CHUNK) {
          const m = Math.min(CHUNK, n - s);
          const rows = scope(() => {
            const which = arange(m)
              .add(first + s)
              .remainder(clusters);
            const x = F.normalize(centres.indexSelect(0, which).add(randn([m, DIM], { generator }).mul(NOISE)), {
              dim: 1,
            });
            return x.toTypedArray() as Float32Array;
          });
          writeSync(fd, new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
        }
      } finally {
        closeSync(fd);
      }
    };
    write('x.npy', items, 0);
    write('q.npy', queries, 7); // cluster offsets differ from the items'; drawn with fresh noise either way
  });
  closeSync(openSync(join(dir, 'done'), 'w'));
  return dir;
}

interface BuildRun {
  seconds: number;
  peakRssMiB: number;
  /** Seconds from the start to each progress line of the build (its stages). */
  stages: { at: number; line: string }[];
  stdout: string;
}

/** Runs the CLI under a python parent that reports the child's peak RSS (getrusage of children). */
function runBuild(args: string[]): Promise<BuildRun> {
  const wrapper = [
    'import json, resource, subprocess, sys, time',
    't = time.time()',
    'r = subprocess.run(sys.argv[1:])',
    'print(json.dumps({"rc": r.returncode, "seconds": time.time() - t,',
    '  "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}), file=sys.stderr)',
  ].join('\n');
  const bin = join(ROOT, 'bin', 'normsoftmax.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', wrapper, process.execPath, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const start = process.hrtime.bigint();
    const stages: BuildRun['stages'] = [];
    let stdout = '';
    let tail = '';
    let last = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      tail += b.toString();
      const lines = tail.split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        last = line;
        if (!line.startsWith('{')) {
          stages.push({ at: round(seconds(start), 2), line });
          progress(`  build: ${line}`);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', () => {
      const line = (tail.trim() || last).trim();
      let r: { rc: number; seconds: number; maxrss_kib: number };
      try {
        r = JSON.parse(line);
      } catch {
        reject(new Error(`index build: no report from the wrapper (last line: ${line})`));
        return;
      }
      if (r.rc !== 0) reject(new Error(`index build exited ${r.rc}: ${stages.at(-1)?.line ?? ''}`));
      else resolve({ seconds: r.seconds, peakRssMiB: r.maxrss_kib / 1024, stages, stdout });
    });
  });
}

function rssMiB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/**
 * Proportional set size: each resident page divided among the mappings that share it. RSS counts a page of
 * the graph file once per view (one view per ef), PSS once in all.
 */
function pssMiB(): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The engine worker's thread is in this process: its resident memory counts here too. */
async function searchAll(index: VisualSearchIndex, qs: Float32Array[], ef: number | null, exact = false) {
  const hits = await index.search(qs, { k: K, mode: 'float', exact, ...(ef !== null ? { ef } : {}) });
  return hits.map((h) => h.map((x) => Number(x.id)));
}

interface FaissSearch {
  seconds: number;
  ids: number[][];
  peakRssMiB: number;
  faiss: string;
}

export async function runScale(a: ScaleArgs): Promise<void> {
  if (!existsSync(PYTHON) || spawnSync(PYTHON, ['-c', 'import faiss'], { stdio: 'ignore' }).status !== 0)
    throw new Error(`faiss not found for ${PYTHON}: apt install python3-faiss`);
  const machine = machineInfo();
  progress(`data: ${a.items} x ${DIM}, ${a.queries} queries (written once to .cache/bench-search)`);
  const t0 = process.hrtime.bigint();
  const data = prepareData(a.items, a.queries);
  const dataSeconds = seconds(t0);
  const work = join(tmpdir(), `normsoftmax-bench-scale-${process.pid}`);
  const idx = join(work, 'index');
  const worker = new PythonWorker(PYTHON, join(HERE, 'reference.py'));
  try {
    progress(`index build --embeddings (M ${a.m}, efConstruction ${a.efConstruction})`);
    const build = await runBuild([
      'index',
      'build',
      '--embeddings',
      join(data, 'x.npy'),
      '--out',
      idx,
      '--exact-below',
      '0',
      '--hnsw-m',
      String(a.m),
      '--hnsw-ef-construction',
      String(a.efConstruction),
    ]);
    const stage = (re: RegExp) => build.stages.find((s) => re.test(s.line))?.at ?? null;
    const floatStart = stage(/building the float HNSW/);
    const binaryStart = stage(/building the binary HNSW/);

    progress('faiss IndexHNSWFlat: build on 1 thread');
    await worker.request({ op: 'load', dir: data });
    const faissBuild = await worker.request<{ seconds: number; indexBytes: number; peakRssMiB: number }>({
      op: 'hnsw_build',
      M: a.m,
      efConstruction: a.efConstruction,
      threads: 1,
    });

    const q = readFileSync(join(data, 'q.npy'));
    const headerLength = 10 + q.readUInt16LE(8);
    const qf = new Float32Array(q.buffer.slice(q.byteOffset + headerLength, q.byteOffset + q.length));
    const qs = Array.from({ length: a.queries }, (_, i) => qf.slice(i * DIM, (i + 1) * DIM));

    const rssBefore = rssMiB();
    const pssBefore = pssMiB();
    const openStart = process.hrtime.bigint();
    const index = await openIndex(idx);
    const openSeconds = seconds(openStart);
    const rssOpen = rssMiB();
    const pssOpen = pssMiB();
    let truth: number[][];
    const sweep: { ours: SweepPoint[]; faiss: SweepPoint[] } = { ours: [], faiss: [] };
    let rssSweep = rssOpen;
    let pssSweep = pssOpen;
    let exactSeconds = 0;
    try {
      progress('graph sweep over ef (ours through openIndex: memory-mapped views, rescored; faiss on 1 thread)');
      await searchAll(index, qs.slice(0, 32), a.efs[0] ?? null); // warm-up
      for (const ef of a.efs) {
        // Alternate which side goes first; best of 2 each.
        let ours = Number.POSITIVE_INFINITY;
        let theirs = Number.POSITIVE_INFINITY;
        let oursIds: number[][] = [];
        let theirIds: number[][] = [];
        for (let r = 0; r < 2; r++) {
          const runOurs = async () => {
            const s = process.hrtime.bigint();
            oursIds = await searchAll(index, qs, ef);
            ours = Math.min(ours, seconds(s));
          };
          const runTheirs = async () => {
            const res = await worker.request<FaissSearch>({ op: 'hnsw_search', ef, k: K, threads: 1 });
            theirIds = res.ids;
            theirs = Math.min(theirs, res.seconds);
          };
          if (r === 0) {
            await runOurs();
            await runTheirs();
          } else {
            await runTheirs();
            await runOurs();
          }
        }
        sweep.ours.push({ ef, recallAt10: Number.NaN, queriesPerSecond: round(a.queries / ours, 1) });
        sweep.faiss.push({ ef, recallAt10: Number.NaN, queriesPerSecond: round(a.queries / theirs, 1) });
        (sweep.ours.at(-1) as SweepPoint & { ids?: number[][] }).ids = oursIds;
        (sweep.faiss.at(-1) as SweepPoint & { ids?: number[][] }).ids = theirIds;
        progress(`  ef ${ef}: ours ${round(a.queries / ours, 1)} q/s, faiss ${round(a.queries / theirs, 1)} q/s`);
      }
      rssSweep = rssMiB();
      pssSweep = pssMiB();
      progress('exact search for the truth (the same index, --exact)');
      const s = process.hrtime.bigint();
      truth = await searchAll(index, qs, null, true);
      exactSeconds = seconds(s);
    } finally {
      await index.close();
    }
    for (const side of [sweep.ours, sweep.faiss]) {
      for (const p of side as (SweepPoint & { ids?: number[][] })[]) {
        p.recallAt10 = round(recallAtK(truth, p.ids ?? [], K), 4);
        delete p.ids;
      }
    }
    const curve = sweep.ours.map((o, i) => {
      const f = sweep.faiss[i] as SweepPoint;
      return {
        ef: o.ef,
        recallAt10: { ours: o.recallAt10, faiss: f.recallAt10 },
        queriesPerSecond: { ours: o.queriesPerSecond, faiss: f.queriesPerSecond },
        ratio: round(o.queriesPerSecond / f.queriesPerSecond),
      };
    });
    const target = qpsTarget(sweep.ours, sweep.faiss, RECALL_FLOOR);
    const faissInfo = await worker.request<{ peakRssMiB: number; faiss: string }>({ op: 'hnsw_search', ef: 16, k: 1 });
    const manifest = JSON.parse(readFileSync(join(idx, 'manifest.json'), 'utf8')) as {
      files: { role: string; bytes: number }[];
      hnsw: { role: string; recallAt10: number; orphans?: number[] }[];
    };
    const bytesOf = (role: string) => manifest.files.find((f) => f.role === role)?.bytes ?? 0;
    const result = {
      benchmark: 'search-scale',
      command: `node --import tsx bench/search/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine,
      data: {
        items: a.items,
        queries: a.queries,
        dimension: DIM,
        clusters: Math.max(10, Math.round(a.items / PER_CLUSTER)),
        noisePerCoordinate: NOISE,
        protocol: 'unit vectors around Gaussian centres (seed 0); queries drawn alike, not items; k = 10',
        generateSeconds: round(dataSeconds, 1),
      },
      hnsw: { M: a.m, efConstruction: a.efConstruction, threads: 1 },
      build: {
        unit: 'seconds (wall) and MiB; ours = `normsoftmax index build --embeddings` end to end as its own process',
        ours: {
          seconds: round(build.seconds, 1),
          floatGraphSeconds: floatStart !== null && binaryStart !== null ? round(binaryStart - floatStart, 1) : null,
          binaryGraphSeconds: binaryStart !== null ? round(build.seconds - binaryStart, 1) : null,
          peakRssMiB: Math.round(build.peakRssMiB),
          stages: build.stages,
          orphans: Object.fromEntries(manifest.hnsw.map((h) => [h.role, h.orphans?.length ?? 0])),
          buildRecallAt10: Object.fromEntries(manifest.hnsw.map((h) => [h.role, h.recallAt10])),
        },
        faiss: { seconds: round(faissBuild.seconds, 1), peakRssMiB: Math.round(faissBuild.peakRssMiB) },
        floatGraphRatio:
          floatStart !== null && binaryStart !== null ? round(faissBuild.seconds / (binaryStart - floatStart)) : null,
        note: 'ours: the float graph (single-threaded add, self-search repair, recall measure), then the binary graph; faiss: IndexHNSWFlat.add alone. floatGraphRatio = faiss / ours, higher is better',
      },
      bytesOnDisk: {
        vectors: bytesOf('vectors'),
        codes: bytesOf('codes'),
        hnswFloat: bytesOf('hnsw-float'),
        hnswBinary: bytesOf('hnsw-binary'),
        faissIndex: faissBuild.indexBytes,
      },
      open: {
        seconds: round(openSeconds, 2),
        rssMiB: { before: Math.round(rssBefore), afterOpen: Math.round(rssOpen), afterSweep: Math.round(rssSweep) },
        pssMiB: { before: Math.round(pssBefore), afterOpen: Math.round(pssOpen), afterSweep: Math.round(pssSweep) },
        note: 'this process (libtorch loaded for data generation) with the index open. The vectors and graphs are mapped: RSS counts a page of the graph once per ef view, PSS once; afterSweep - before is what the searches touched, the items and the JS results',
      },
      exactSeconds: round(exactSeconds, 2),
      unit: 'queries/s (wall, best of 2, 1 thread each); recall@10 against our exact search; ratio = ours / faiss, higher is better',
      curve,
      targets: {
        qpsAtRecall095: target.status,
        detail: target,
      },
      faissVersion: faissInfo.faiss,
      faissPeakRssMiB: Math.round(faissInfo.peakRssMiB),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    worker.close();
    rmSync(work, { recursive: true, force: true });
  }
}
