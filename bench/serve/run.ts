// Serving benchmark (issue 9 point 7, issue 21): a loopback load test of `normsoftmax serve` with autocannon.
// A 50,000-item index of random 128-d vectors whose embedder is bare resnet18 weights at a small input
// (resize 72, crop 64), so image queries run the real model; 2,000 searches by id, 2,000 by vector and 500
// by image (16 generated PNGs) at 16 connections. The same id searches run in process on the same index at
// the same concurrency: the server's overhead is its latency over the in-process search's. The ceiling
// (issue 21): a bare fastify route answering a fixed 10-result JSON (bare-fastify.mjs, same connections)
// and the exact scan of batches of 16 queries over the same vectors in process, combined as
// 1 / (1/bare + 1/scan16); searches by vector and by id should reach half of it. Prints one JSON object.
// Usage: node --import tsx bench/serve/run.ts [--threads N] [--quick]   (--quick: 5,000 items, fewer requests)
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import sharp from 'sharp';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { ResNet } from '../../src/nn/index.js';
import { IMAGENET_INPUT } from '../../src/nn/input-spec.js';
import { openIndex } from '../../src/search/open-index.js';
import { sha256File } from '../../src/search/sha256.js';
import type { ItemMeta } from '../../src/search/types.js';
import { writeUsearchIndex } from '../../src/search/usearch/write.js';
import { manualSeed } from '../../src/tensor/index.js';
import { scanInnerProduct } from '../../src/tensor/kernels/scan.js';
import { parseBenchArgs, runBenchMain } from '../common/args.js';
import { machineInfo } from '../common/machine.js';
import { median, round } from '../common/timing.js';
import { randomUnit } from '../common/vectors.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const DIM = 128;
const CONNECTIONS = 16;
const K = 10;

function progress(message: string): void {
  process.stderr.write(`[bench/serve] ${message}\n`);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** The index (cached in .cache/bench-serve): random vectors, with resnet18 weights as its embedder. */
async function prepareIndex(n: number): Promise<string> {
  const dir = join(ROOT, '.cache', 'bench-serve', `n${n}-d${DIM}`);
  const idx = join(dir, 'idx');
  if (existsSync(join(idx, 'manifest.json'))) return idx;
  mkdirSync(dir, { recursive: true });
  const weights = join(dir, 'resnet18.safetensors');
  manualSeed(0);
  const net = new ResNet(18);
  try {
    saveSafetensors(weights, net.stateDict());
  } finally {
    net.dispose();
  }
  progress(`writing a ${n} x ${DIM} index`);
  const items: ItemMeta[] = Array.from({ length: n }, (_, i) => ({
    id: `item${i}`,
    path: null,
    label: `c${i % 100}`,
    size: null,
    hash: null,
  }));
  await writeUsearchIndex(
    idx,
    { items, dim: DIM, vectors: randomUnit(n, DIM, 1) },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: {
        checkpointSha256: sha256File(weights),
        checkpointPath: weights,
        arch: 'resnet18',
        dim: DIM,
        input: { ...IMAGENET_INPUT, size: 64 },
        resize: 72,
        crop: 64,
      },
      imageRoot: null,
      source: { kind: 'embeddings', detail: { bench: 'serve' } },
    },
  );
  return idx;
}

async function queryImages(count: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = 96;
    const px = Buffer.alloc(size * size * 3);
    for (let p = 0; p < px.length; p += 3) {
      const x = (p / 3) % size;
      px[p] = (i * 37 + x * 3) & 255;
      px[p + 1] = (i * 91 + ((p / 3 / size) | 0) * 2) & 255;
      px[p + 2] = (i * 13) & 255;
    }
    out.push(
      await sharp(px, { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toBuffer(),
    );
  }
  return out;
}

function multipartBody(png: Buffer, boundary: string): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="k"\r\n\r\n${K}\r\n`),
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="image"; filename="q.png"\r\ncontent-type: image/png\r\n\r\n`,
    ),
    png,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

async function startServer(idx: string, threads: number): Promise<{ child: ChildProcess; url: string }> {
  return startChild(
    [join(ROOT, 'bin', 'normsoftmax.mjs'), 'serve', '--index', idx, '--port', '0', '--queue', '256'],
    threads,
  );
}

async function startChild(args: string[], threads: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, NORMSOFTMAX_THREADS: String(threads) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  for (let i = 0; i < 1800; i++) {
    const m = log.match(/on (http:\/\/127\.0\.0\.1:\d+)/);
    if (m) return { child, url: m[1] as string };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${args[0]} did not start: ${log.trim().split('\n').pop()}`);
}

function summary(r: Result, amount: number) {
  return {
    requests: amount,
    throughputPerS: round(amount / r.duration, 1),
    latencyMs: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      mean: round(r.latency.mean, 2),
      max: r.latency.max,
    },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, Number(v.count)])),
  };
}

/** The same id searches in process, CONNECTIONS at a time: latency of each and the throughput. */
async function inProcess(idx: string, ids: readonly string[]) {
  const index = await openIndex(idx);
  try {
    // warm-up (not measured): the engine worker's first searches fault in the vectors
    for (const id of ids.slice(0, 50))
      await index.search([index.vectorOf(id) as Float32Array], { k: K, mode: 'float' });
    const latencies: number[] = [];
    let next = 0;
    const loop = async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        const t = performance.now();
        await index.search([index.vectorOf(id) as Float32Array], { k: K, mode: 'float' });
        latencies.push(performance.now() - t);
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: CONNECTIONS }, loop));
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      requests: ids.length,
      throughputPerS: round(ids.length / seconds, 1),
      latencyMs: { p50: round(median(latencies), 3), p99: round(percentile(latencies, 99), 3) },
    };
  } finally {
    await index.close();
  }
}

/** Queries per second of the exact scan in batches of 16 (best of 3 passes over all the queries). */
function scanBatch16(vectors: Float32Array, queries: Float32Array): number {
  const nq = queries.length / DIM;
  const stored = { precision: 'f32' as const, data: vectors, n: vectors.length / DIM, dim: DIM };
  let best = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 3; pass++) {
    const t = performance.now();
    for (let q = 0; q + 16 <= nq; q += 16)
      scanInnerProduct(stored, queries.subarray(q * DIM, (q + 16) * DIM), { k: K });
    best = Math.min(best, performance.now() - t);
  }
  return (Math.floor(nq / 16) * 16) / (best / 1000);
}

/** POSTs of a fixed JSON body builder, CONNECTIONS at a time. */
function post(url: string, amount: number, body: (i: number) => string) {
  let i = 0;
  return autocannon({
    url: `${url}/api/search`,
    connections: CONNECTIONS,
    amount,
    timeout: 30,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: body(i++),
        }),
      },
    ],
  });
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const machine = machineInfo();
  const items = args.quick ? 5000 : 50_000;
  const byIdCount = args.quick ? 300 : 2000;
  const byImageCount = args.quick ? 64 : 500;
  const idx = await prepareIndex(items);
  let seed = 7;
  const ids = Array.from({ length: byIdCount }, () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return `item${seed % items}`;
  });
  const queryVectors = randomUnit(byIdCount, DIM, 99);
  const vectorBodies = Array.from({ length: byIdCount }, (_, q) =>
    JSON.stringify({ vector: Array.from(queryVectors.subarray(q * DIM, (q + 1) * DIM)), k: K }),
  );
  const boundary = 'benchserveboundary';
  const bodies = (await queryImages(16)).map((png) => multipartBody(png, boundary));

  progress(`in-process search: ${byIdCount} queries, ${CONNECTIONS} at a time`);
  const localRuns = [await inProcess(idx, ids)];

  progress('starting the server');
  const { child, url } = await startServer(idx, args.threads);
  try {
    // warm-up: a few of each kind (not measured)
    await autocannon({
      url: `${url}/api/search`,
      connections: 4,
      amount: 40,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'item1', k: K }),
    });
    progress(`${byIdCount} searches by id, ${CONNECTIONS} connections`);
    const byId = await post(url, byIdCount, (i) => JSON.stringify({ id: ids[i % ids.length], k: K }));
    progress(`${byIdCount} searches by vector, ${CONNECTIONS} connections`);
    await post(url, 64, (i) => vectorBodies[i % vectorBodies.length] as string); // warm-up
    const byVector = await post(url, byIdCount, (i) => vectorBodies[i % vectorBodies.length] as string);
    progress(`${byImageCount} searches by image, ${CONNECTIONS} connections`);
    let j = 0;
    const byImage = await autocannon({
      url: `${url}/api/search`,
      connections: CONNECTIONS,
      amount: byImageCount,
      timeout: 60,
      requests: [
        {
          setupRequest: (req) => ({
            ...req,
            method: 'POST',
            headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
            body: bodies[j++ % bodies.length] as Buffer,
          }),
        },
      ],
    });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));

    progress('the ceiling: a bare fastify route, and the scan in batches of 16');
    const bare = await startChild([join(HERE, 'bare-fastify.mjs')], args.threads);
    let bareRun: Result;
    try {
      await post(bare.url, 200, () => '{}');
      bareRun = await post(bare.url, 4 * byIdCount, () => '{}');
    } finally {
      bare.child.kill('SIGTERM');
      await new Promise((r) => bare.child.on('exit', r));
    }
    const bareSummary = summary(bareRun, 4 * byIdCount);
    const scan16 = scanBatch16(randomUnit(items, DIM, 1), queryVectors);
    const ceiling = 1 / (1 / bareSummary.throughputPerS + 1 / scan16);
    // the in-process side again once the server is idle (load from elsewhere hits both alike); the faster run counts
    progress('in-process search again');
    localRuns.push(await inProcess(idx, ids));
    const local = localRuns.reduce((a, b) => (b.latencyMs.p50 < a.latencyMs.p50 ? b : a));
    const batchSum = Number(metrics.match(/^normsoftmax_embed_batch_size_sum (\S+)$/m)?.[1] ?? Number.NaN);
    const batchCount = Number(metrics.match(/^normsoftmax_embed_batch_size_count (\S+)$/m)?.[1] ?? Number.NaN);
    const id = summary(byId, byIdCount);
    const image = summary(byImage, byImageCount);
    const vector = summary(byVector, byIdCount);
    const errors = id.errors + id.non2xx + image.errors + image.non2xx + vector.errors + vector.non2xx;
    console.log(
      JSON.stringify(
        {
          benchmark: 'serve',
          quick: args.quick,
          threads: args.threads,
          index: { items, dim: DIM, search: 'exact float', embedder: 'bare resnet18, resize 72, crop 64' },
          connections: CONNECTIONS,
          k: K,
          byId: id,
          byVector: vector,
          byImage: { ...image, meanEmbedBatch: round(batchSum / batchCount, 2) },
          inProcess: { ...local, p50MsOfEachRun: localRuns.map((r) => r.latencyMs.p50) },
          overhead: {
            note: 'server latency minus the in-process search latency, same queries at the same concurrency',
            p50Ms: round(id.latencyMs.p50 - local.latencyMs.p50, 3),
            p99Ms: round(id.latencyMs.p99 - local.latencyMs.p99, 3),
            throughputRatio: round(id.throughputPerS / local.throughputPerS, 3),
          },
          ceiling: {
            note: '1 / (1/bare fastify + 1/exact scan of batches of 16), both measured in this run',
            bareFastifyPerS: bareSummary.throughputPerS,
            bareFastifyP99Ms: bareSummary.latencyMs.p99,
            scanBatch16QueriesPerS: round(scan16, 1),
            combinedPerS: round(ceiling, 1),
            byVectorRatio: round(vector.throughputPerS / ceiling, 3),
            byIdRatio: round(id.throughputPerS / ceiling, 3),
          },
          targets: {
            zeroErrors: errors === 0,
            halfTheCeiling: vector.throughputPerS >= ceiling / 2 && id.throughputPerS >= ceiling / 2,
            p99Under20Ms: vector.latencyMs.p99 < 20 && id.latencyMs.p99 < 20,
          },
          machine,
        },
        null,
        2,
      ),
    );
    if (errors !== 0) process.exitCode = 1;
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
  }
}

await runBenchMain(main);
