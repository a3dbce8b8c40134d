// Live index benchmark (issue 18): a real `normsoftmax serve --writable` over a base index of 128-d vectors
// around 1,000 seeded Gaussian centres (clusteredUnit: embeddings cluster, and over uniform noise an HNSW
// graph's recall falls so low with n that a compaction rebuilds it instead of extending it) whose embedder is seeded bare resnet18 weights (the identity `index build` records: resize 256,
// crop 224), for each backend:
//   - writes by vector: 8 concurrent clients PUT JSON vectors; acknowledged (fsynced) items/s (target >= 2000);
//   - writes by image: 8 concurrent clients PUT raw PNGs, embedded and stored by the server, against the
//     build's embedding loop (`embed`'s) on the same model and images in process: images/s and the ratio
//     (target >= 0.8);
//   - reads during writes: searches by vector at a fixed rate (open loop; at most half of what one client
//     gets), p99 latency on the idle server and while vectors are written at half the measured write rate
//     (open loop too); the ratio (target <= 2);
//   - compaction: D delta items put into a B-item base, then `normsoftmax index compact` as a process: its
//     time and peak resident memory (VmHWM, polled).
// Prints one JSON object (machine, load average and CPU flags included, and each phase's wall time). The
// default is a quick run (under two minutes on two cores); --base 1000000 --delta 100000 gives the issue's
// compaction figure (the base index is written once and cached in .cache/bench-live/; --serve-base N runs
// the serve phases on another base than the compaction's, by default the same).
// Usage: node --import tsx bench/live/run.ts [--threads N] [--backend usearch|lancedb|both] [--base N]
//   [--serve-base N] [--delta N] [--writes N] [--images N] [--read-rate N] [--seconds N]
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { acquireWriterLock } from '../../src/io/writer-lock.js';
import { ResNet } from '../../src/nn/index.js';
import { modelEmbedder } from '../../src/search/build/item-embedder.js';
import { writeLanceIndex } from '../../src/search/lancedb/write.js';
import { openIndex } from '../../src/search/open-index.js';
import type { EmbedderIdentity, IndexBackend, ItemMeta } from '../../src/search/types.js';
import { writeUsearchIndex } from '../../src/search/usearch/write.js';
import { manualSeed } from '../../src/tensor/index.js';
import { BenchArgsError, runBenchMain } from '../common/args.js';
import { cpuFlags, machineInfo } from '../common/machine.js';
import { round } from '../common/timing.js';
import { clusteredUnit } from '../common/vectors.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const CACHE = join(ROOT, '.cache', 'bench-live');
const DIM = 128;
const CLIENTS = 8;
const TOKEN = 'bench-live-write-token-0123456789';

interface Args {
  threads: number;
  backends: IndexBackend[];
  base: number;
  /** The base of the serve phases (writes, reads); the compaction's is `base`. */
  serveBase: number;
  delta: number;
  writes: number;
  images: number;
  readRate: number;
  seconds: number;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    threads: availableParallelism(),
    backends: ['usearch', 'lancedb'],
    base: 20_000,
    serveBase: 0,
    delta: 2_000,
    writes: 4_000,
    images: 96,
    readRate: 100,
    seconds: 6,
  };
  const integer = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 1)
      throw new BenchArgsError(`${flag}: expected a positive integer, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const v = argv[++i];
    if (flag === '--threads') a.threads = integer(flag, v);
    else if (flag === '--base') a.base = integer(flag, v);
    else if (flag === '--serve-base') a.serveBase = integer(flag, v);
    else if (flag === '--delta') a.delta = integer(flag, v);
    else if (flag === '--writes') a.writes = integer(flag, v);
    else if (flag === '--images') a.images = integer(flag, v);
    else if (flag === '--read-rate') a.readRate = integer(flag, v);
    else if (flag === '--seconds') a.seconds = integer(flag, v);
    else if (flag === '--backend') {
      if (v === 'both') a.backends = ['usearch', 'lancedb'];
      else if (v === 'usearch' || v === 'lancedb') a.backends = [v];
      else throw new BenchArgsError(`--backend: expected usearch, lancedb or both, got ${v ?? 'nothing'}`);
    } else
      throw new BenchArgsError(
        `unknown argument ${flag} (expected --threads, --backend, --base, --serve-base, --delta, --writes, --images, --read-rate, --seconds)`,
      );
  }
  if (a.serveBase === 0) a.serveBase = a.base;
  return a;
}

function progress(message: string): void {
  process.stderr.write(`[bench/live] ${message}\n`);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const vectorAt = (v: Float32Array, i: number) => Array.from(v.subarray(i * DIM, (i + 1) * DIM));

/** Seeded resnet18 weights and the identity index build records for them at 128-d. */
async function model(): Promise<{ weights: string; identity: EmbedderIdentity }> {
  const weights = join(CACHE, 'resnet18.safetensors');
  if (!existsSync(weights)) {
    mkdirSync(CACHE, { recursive: true });
    manualSeed(0);
    const net = new ResNet(18);
    try {
      saveSafetensors(weights, net.stateDict());
    } finally {
      net.dispose();
    }
  }
  const m = await modelEmbedder(weights, { arch: 'resnet18', dim: DIM });
  const identity = m.identity;
  m.close();
  return { weights, identity };
}

/** A base index of n clustered vectors (cached), copied to a fresh working folder. */
async function baseIndex(backend: IndexBackend, n: number, identity: EmbedderIdentity, work: string): Promise<string> {
  const cached = join(CACHE, `${backend}-n${n}-d${DIM}-clustered`);
  if (!existsSync(join(cached, 'manifest.json'))) {
    progress(`writing a ${n} x ${DIM} ${backend} base index (once: cached in ${CACHE})`);
    const started = performance.now();
    const items: ItemMeta[] = Array.from({ length: n }, (_, i) => ({
      id: `item${i}`,
      path: null,
      label: `c${i % 100}`,
      size: null,
      hash: null,
    }));
    const content = { items, dim: DIM, vectors: clusteredUnit(n, DIM, 1) };
    const o = {
      precision: 'f32' as const,
      exactBelow: 50_000,
      embedder: identity,
      imageRoot: null,
      source: { kind: 'embeddings' as const, detail: { bench: 'live' } },
    };
    if (backend === 'usearch') await writeUsearchIndex(cached, content, o);
    else await writeLanceIndex(cached, content, o);
    progress(`${backend} base index of ${n} written in ${round((performance.now() - started) / 1000, 1)} s`);
  }
  rmSync(work, { recursive: true, force: true });
  cpSync(cached, work, { recursive: true });
  return work;
}

async function pngs(count: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = 160;
    const px = Buffer.alloc(size * size * 3);
    for (let p = 0; p < px.length; p += 3) {
      const x = (p / 3) % size;
      px[p] = (i * 37 + x * 3) & 255;
      px[p + 1] = (i * 91 + ((p / 3 / size) | 0) * 2) & 255;
      px[p + 2] = (i * 13 + x) & 255;
    }
    out.push(
      await sharp(px, { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toBuffer(),
    );
  }
  return out;
}

async function startServer(
  idx: string,
  threads: number,
): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const args = ['serve', '--index', idx, '--port', '0', '--queue', '512', '--writable', '--no-browser-embed'];
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'normsoftmax.mjs'), ...args], {
    cwd: ROOT,
    env: { ...process.env, NORMSOFTMAX_THREADS: String(threads), NORMSOFTMAX_WRITE_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  for (let i = 0; i < 3000; i++) {
    const m = log.match(/on (http:\/\/127\.0\.0\.1:\d+)/);
    if (m) return { child, url: m[1] as string, log: () => log };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`serve did not start: ${log.trim().split('\n').pop()}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const AUTH = { authorization: `Bearer ${TOKEN}` };

async function put(url: string, id: string, body: string | Uint8Array, type: string): Promise<void> {
  const r = await fetch(`${url}/api/items/${encodeURIComponent(id)}`, {
    method: 'PUT',
    headers: { ...AUTH, 'content-type': type },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await r.text();
  if (r.status !== 201 && r.status !== 200) throw new Error(`PUT ${id}: ${r.status} ${text.slice(0, 200)}`);
}

/**
 * The disk's fdatasync latency in the index folder (median of 200 appends of 1 KB, each fsynced): a group
 * commit answers its writes after one, so CLIENTS / latency bounds the acknowledged writes per second.
 */
function fsyncLatencyMs(dir: string): { p50: number; p99: number } {
  const path = join(dir, 'fsync-probe');
  const fd = openSync(path, 'w');
  const times: number[] = [];
  try {
    const block = Buffer.alloc(1024, 7);
    for (let i = 0; i < 200; i++) {
      writeSync(fd, block);
      const t = performance.now();
      fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return { p50: round(percentile(times, 50), 3), p99: round(percentile(times, 99), 3) };
}

/** Writes by vector with autocannon (a light client): CLIENTS connections, `count` PUTs of distinct ids. */
async function vectorWrites(url: string, count: number, vectors: Float32Array) {
  const bodies = Array.from({ length: Math.min(count, vectors.length / DIM) }, (_, i) =>
    JSON.stringify({ vector: vectorAt(vectors, i), label: 'v' }),
  );
  let i = 0;
  // Our own clock: autocannon's duration counts its 1-second sampling ticks (600 writes in 0.3 s read 1.01 s).
  const start = performance.now();
  const r = await autocannon({
    url,
    connections: CLIENTS,
    amount: count,
    timeout: 30,
    requests: [
      {
        setupRequest: (req) => {
          const k = i++;
          return {
            ...req,
            method: 'PUT',
            path: `/api/items/v${k}`,
            headers: { ...AUTH, 'content-type': 'application/json' },
            body: bodies[k % bodies.length] as string,
          };
        },
      },
    ],
  });
  const seconds = (performance.now() - start) / 1000;
  if (r.errors + r.non2xx > 0) throw new Error(`writes by vector: ${r.errors} errors, ${r.non2xx} answers not 2xx`);
  return {
    items: count,
    seconds: round(seconds, 2),
    perS: round(count / seconds, 1),
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99 },
  };
}

/** `count` writes from CLIENTS concurrent clients; writes per second. */
async function writers(count: number, write: (i: number) => Promise<void>) {
  let next = 0;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < count) {
        await write(next++);
        done++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { items: done, seconds: round(seconds, 2), perS: round(done / seconds, 1) };
}

/** `rate` calls per second of `call` for `seconds` (open loop); how many failed. */
async function openLoop(rate: number, seconds: number, call: () => Promise<void>) {
  const start = performance.now();
  const total = rate * seconds;
  let errors = 0;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      call().catch(() => {
        errors++;
      }),
    );
  }
  await Promise.all(inflight);
  return { sent: total, errors, seconds: round((performance.now() - start) / 1000, 2) };
}

/** Searches by vector at `rate` per second for `seconds` (open loop: sent on schedule, not after answers). */
async function reads(url: string, rate: number, seconds: number, queries: Float32Array) {
  const latencies: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const body = JSON.stringify({ vector: vectorAt(queries, i % (queries.length / DIM)), k: 10 });
    const t = performance.now();
    inflight.push(
      fetch(`${url}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (r) => {
          await r.arrayBuffer();
          if (!r.ok) errors++;
          latencies.push(performance.now() - t);
        })
        .catch(() => {
          errors++;
        }),
    );
  }
  await Promise.all(inflight);
  return {
    requests: total,
    errors,
    latencyMs: { p50: round(percentile(latencies, 50), 2), p99: round(percentile(latencies, 99), 2) },
  };
}

/** Peak resident memory of a process (VmHWM, kB -> MiB), polled until it exits. */
function vmHwmMiB(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function compaction(backend: IndexBackend, a: Args, identity: EmbedderIdentity) {
  const idx = await baseIndex(backend, a.base, identity, join(CACHE, 'work', `${backend}-compact`));
  progress(`${backend}: putting ${a.delta} delta items into the ${a.base}-item base`);
  const lock = acquireWriterLock(idx, 'bench');
  const fresh = clusteredUnit(a.delta, DIM, 9);
  const index = await openIndex(idx, { writer: { lock, compactAbove: Number.MAX_SAFE_INTEGER }, log: () => {} });
  try {
    const w = index.writer;
    if (!w) throw new Error('not writable');
    for (let s = 0; s < a.delta; s += 1000) {
      const n = Math.min(1000, a.delta - s);
      await Promise.all(
        Array.from({ length: n }, (_, j) => {
          const i = s + j;
          // One in ten replaces a base item: tombstones as well as new rows.
          const id = i % 10 === 0 ? `item${(i * 7) % a.base}` : `new${i}`;
          return w.put(
            { id, path: null, label: 'new', size: null, hash: null },
            fresh.subarray(i * DIM, (i + 1) * DIM),
          );
        }),
      );
    }
  } finally {
    await index.close();
    lock.release();
  }
  progress(`${backend}: index compact`);
  const start = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'normsoftmax.mjs'), 'index', 'compact', '--index', idx], {
    cwd: ROOT,
    env: { ...process.env, NORMSOFTMAX_THREADS: String(a.threads) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  let peak = 0;
  const poll = setInterval(() => {
    peak = Math.max(peak, vmHwmMiB(child.pid as number) ?? 0);
  }, 50);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(poll);
  const wall = (performance.now() - start) / 1000;
  if (code !== 0)
    throw new Error(`index compact failed (exit ${code}):\n${out.trim().split('\n').slice(-30).join('\n')}`);
  const seconds = Number(/ in ([\d.]+) s/.exec(out)?.[1]);
  rmSync(idx, { recursive: true, force: true });
  return {
    base: a.base,
    delta: a.delta,
    compactSeconds: seconds,
    commandWallSeconds: round(wall, 2),
    peakResidentMiB: round(peak, 1),
    note: 'compactSeconds: the compaction as the command reports it; the wall time and peak memory include opening the index',
    report: out.trim().split('\n').pop(),
  };
}

async function embedRate(weights: string, images: Buffer[]) {
  const folder = join(CACHE, 'work', 'images');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const paths = images.map((b, i) => {
    const p = join(folder, `img${i}.png`);
    writeFileSync(p, b);
    return p;
  });
  const m = await modelEmbedder(weights, { arch: 'resnet18', dim: DIM });
  try {
    const dataset = { name: 'images', root: folder, splits: {} };
    const samples = paths.map((path) => ({ path, label: 0 }));
    await m.embed(dataset, samples.slice(0, 8)); // warm-up
    const start = performance.now();
    await m.embed(dataset, samples);
    const seconds = (performance.now() - start) / 1000;
    return { images: paths.length, seconds: round(seconds, 2), perS: round(paths.length / seconds, 1) };
  } finally {
    m.close();
  }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

const walFsyncs = (url: string) => metric(url, 'normsoftmax_wal_fsyncs_total');

/** Searches per second one client gets (each sent when the last is answered), over 2 s. */
async function closedLoopRate(url: string, queries: Float32Array): Promise<number> {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < 2000) {
    const body = JSON.stringify({ vector: vectorAt(queries, n % (queries.length / DIM)), k: 10 });
    const r = await fetch(`${url}/api/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await r.arrayBuffer();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

async function serverRun(backend: IndexBackend, a: Args, identity: EmbedderIdentity, images: Buffer[]) {
  const idx = await baseIndex(backend, a.serveBase, identity, join(CACHE, 'work', `${backend}-serve`));
  progress(`${backend}: starting serve --writable`);
  const { child, url, log } = await startServer(idx, a.threads);
  try {
    const vectors = clusteredUnit(a.writes, DIM, 5);
    const queries = clusteredUnit(256, DIM, 6);
    await writers(64, (i) =>
      put(url, `warm${i}`, JSON.stringify({ vector: vectorAt(vectors, i) }), 'application/json'),
    );
    progress(`${backend}: ${a.writes} writes by vector, ${CLIENTS} clients`);
    const fsyncsBefore = await walFsyncs(url);
    const byVector = await vectorWrites(url, a.writes, vectors);
    const batch = round(a.writes / ((await walFsyncs(url)) - fsyncsBefore), 2);
    progress(`${backend}: ${images.length} writes by image, ${CLIENTS} clients`);
    await writers(8, (i) => put(url, `warm-image${i}`, images[i % images.length] as Buffer, 'image/png'));
    const byImage = await writers(images.length, (i) => put(url, `image${i}`, images[i] as Buffer, 'image/png'));
    // Idle: no compaction running (the writes above may have started one).
    for (let i = 0; i < 1200 && (await metric(url, 'normsoftmax_compacting')) === 1; i++)
      await new Promise((r) => setTimeout(r, 100));
    // The same read rate for both phases, at most half of what one client gets from the idle server: a rate
    // above the server's capacity would measure its queue, not its latency.
    const capacity = await closedLoopRate(url, queries);
    const rate = Math.max(1, Math.min(a.readRate, Math.floor(capacity / 2)));
    progress(`${backend}: reads at ${rate}/s for ${a.seconds} s, idle`);
    const idle = await reads(url, rate, a.seconds, queries);
    progress(`${backend}: reads at ${rate}/s for ${a.seconds} s, while ${CLIENTS} clients write`);
    // Writes at half the measured write capacity, open loop, beside the reads.
    const writeRate = Math.max(1, Math.floor(byVector.perS / 2));
    let w = 0;
    const background = openLoop(writeRate, a.seconds, () =>
      put(url, `busy${w}`, JSON.stringify({ vector: vectorAt(vectors, w++ % a.writes) }), 'application/json'),
    );
    const busy = await reads(url, rate, a.seconds, queries);
    const during = await background;
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const counted = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
    return {
      byVector: { ...byVector, meanGroupCommit: batch, fsyncMs: fsyncLatencyMs(idx) },
      byImage,
      reads: {
        rate,
        oneClientPerS: round(capacity, 1),
        seconds: a.seconds,
        idle,
        duringWrites: { ...busy, writeRate, writes: during },
        p99Ratio: round(busy.latencyMs.p99 / idle.latencyMs.p99, 2),
      },
      server: {
        walFsyncs: counted('normsoftmax_wal_fsyncs_total'),
        walBytes: counted('normsoftmax_wal_bytes_total'),
        compactions: counted('normsoftmax_compactions_total'),
        items: counted('normsoftmax_index_items'),
        compactionLines: log()
          .split('\n')
          .filter((l) => l.includes('compact')),
      },
    };
  } finally {
    await stop(child);
    rmSync(idx, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  const flags = cpuFlags();
  const { weights, identity } = await model();
  const images = await pngs(a.images);
  progress(`embed's loop on ${images.length} images`);
  const embed = await embedRate(weights, images);
  const results: Record<string, unknown> = {};
  const targets: Record<string, boolean> = {};
  const phases: Record<string, number> = {};
  const timed = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await run();
    } finally {
      phases[name] = round((performance.now() - start) / 1000, 1);
      progress(`${name}: ${phases[name]} s`);
    }
  };
  for (const backend of a.backends) {
    const s = await timed(`${backend}.serve`, () => serverRun(backend, a, identity, images));
    const c = await timed(`${backend}.compaction`, () => compaction(backend, a, identity));
    const imageRatio = round(s.byImage.perS / embed.perS, 3);
    results[backend] = { ...s, byImage: { ...s.byImage, embedPerS: embed.perS, ratio: imageRatio }, compaction: c };
    targets[`${backend}.byVector>=2000/s`] = s.byVector.perS >= 2000;
    progress(
      `${backend}: ${s.byVector.perS} writes/s by vector, ${s.byImage.perS} images/s, read p99 x${s.reads.p99Ratio}`,
    );
    targets[`${backend}.byImage>=0.8*embed`] = imageRatio >= 0.8;
    targets[`${backend}.readP99<=2x`] = s.reads.p99Ratio <= 2;
  }
  console.log(
    JSON.stringify(
      {
        benchmark: 'live',
        threads: a.threads,
        clients: CLIENTS,
        index: {
          dim: DIM,
          base: a.base,
          serveBase: a.serveBase,
          vectors: 'unit vectors around 1,000 seeded Gaussian centres, noise 1 per coordinate (clusteredUnit)',
          embedder: 'bare resnet18 at 128-d, resize 256, crop 224 (seeded weights)',
        },
        embed,
        ...results,
        targets,
        phaseSeconds: phases,
        machine: { ...machine, cpuFlags: flags, loadAverage1mAtEnd: round(loadavg()[0] ?? 0, 2) },
      },
      null,
      2,
    ),
  );
}

await runBenchMain(main);
