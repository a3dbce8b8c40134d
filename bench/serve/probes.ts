// Hostile-input probes against a real `normsoftmax serve` (issue 17): each probe's requests run while /health
// is polled every 20 ms; the JSON gives, per probe, the probe's answers and how long they took, /health's
// latency under it (p50 / p99 / max, against the idle server's in the same run: the ratio), and the server's
// peak resident memory (VmHWM) after it. The index is shaped like the demo's: 35,000 items with ids
// "fashion-mnist:test/N", 128-d vectors, no model (the image probes are bench/serve/memory.ts's).
// Usage: node --import tsx bench/serve/probes.ts [--quick]   (--quick: 5,000 items)
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ItemMeta } from '../../src/search/types.js';
import { writeUsearchIndex } from '../../src/search/usearch/write.js';
import { parseBenchArgs, runBenchMain } from '../common/args.js';
import { cpuFlags, machineInfo } from '../common/machine.js';
import { round } from '../common/timing.js';
import { randomUnit } from '../common/vectors.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const DIM = 128;

function progress(message: string): void {
  process.stderr.write(`[bench/serve-probes] ${message}\n`);
}

async function prepareIndex(n: number): Promise<string> {
  const idx = join(ROOT, '.cache', 'bench-serve-probes', `n${n}`, 'idx');
  if (existsSync(join(idx, 'manifest.json'))) return idx;
  mkdirSync(idx, { recursive: true });
  const items: ItemMeta[] = Array.from({ length: n }, (_, i) => ({
    id: `fashion-mnist:test/${i}`,
    path: null,
    label: String(5 + (i % 5)),
    size: null,
    hash: null,
  }));
  await writeUsearchIndex(
    idx,
    { items, dim: DIM, vectors: randomUnit(n, DIM, 1) },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: { checkpointSha256: null, checkpointPath: null, arch: null, dim: DIM, input: null, resize: 0, crop: 0 },
      imageRoot: null,
      source: { kind: 'embeddings', detail: {} },
    },
  );
  return idx;
}

async function startServe(idx: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'normsoftmax.mjs'), 'serve', '--index', idx, '--port', '0', '--timeout-ms', '5000'],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  for (let i = 0; i < 600; i++) {
    const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
    if (m) return { child, base: m[1] as string };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`serve did not start: ${log.slice(-500)}`);
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? round(Number(m[1]) / 1024, 1) : Number.NaN;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface Probe {
  name: string;
  /** Concurrent copies of the request. */
  copies: number;
  request: () => { path: string; init: RequestInit };
}

const json = (path: string, body: string): { path: string; init: RequestInit } => ({
  path,
  init: { method: 'POST', headers: { 'content-type': 'application/json' }, body },
});

function probes(): Probe[] {
  const big = 'A'.repeat(4 * 1024 * 1024);
  return [
    {
      name: "where id LIKE '%%%%%%%%%%%%é' (issue 17: minutes of CPU before)",
      copies: 4,
      request: () =>
        json('/api/search', JSON.stringify({ id: 'fashion-mnist:test/7', where: "id LIKE '%%%%%%%%%%%%é'" })),
    },
    {
      name: "where id LIKE '%_%_%_%_%_%_%_%_%9' (a new filter each time: no cached rows)",
      copies: 4,
      request: () =>
        json(
          '/api/search',
          JSON.stringify({ id: 'fashion-mnist:test/7', where: `id LIKE '%_%_%_%_%_%_%_%_%${Math.random()}'` }),
        ),
    },
    { name: 'JSON nested 100,000 deep', copies: 4, request: () => json('/api/search', '['.repeat(100_000)) },
    { name: '4 MB string in k (multipart, no echo)', copies: 4, request: () => multipartK(big) },
    {
      name: '150-character and 4096-character non-ASCII ids',
      copies: 4,
      request: () => ({ path: `/api/items/${encodeURIComponent('中'.repeat(4096))}`, init: {} }),
    },
    {
      name: 'search by id, k = 1000 (the largest answer)',
      copies: 16,
      request: () => json('/api/search', JSON.stringify({ id: 'fashion-mnist:test/7', k: 1000 })),
    },
  ];
}

function multipartK(value: string): { path: string; init: RequestInit } {
  const b = 'probeBoundary';
  const body = `--${b}\r\ncontent-disposition: form-data; name="k"\r\n\r\n${value}\r\n--${b}--\r\n`;
  return {
    path: '/api/search',
    init: { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${b}` }, body },
  };
}

/** Polls /health every 20 ms until `done` settles; returns the latencies in ms and the status codes seen. */
async function pollHealth(base: string, done: Promise<unknown>): Promise<{ ms: number[]; codes: number[] }> {
  let finished = false;
  done.finally(() => {
    finished = true;
  });
  const ms: number[] = [];
  const codes: number[] = [];
  do {
    const t = performance.now();
    const r = await fetch(`${base}/health`);
    await r.arrayBuffer();
    ms.push(performance.now() - t);
    codes.push(r.status);
    await new Promise((res) => setTimeout(res, 20));
  } while (!finished || ms.length < 5);
  return { ms, codes };
}

function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: round(percentile(s, 50), 2),
    p99: round(percentile(s, 99), 2),
    max: round(s.at(-1) ?? 0, 2),
  };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const n = args.quick ? 5000 : 35_000;
  const machine = machineInfo();
  const idx = await prepareIndex(n);
  const { child, base } = await startServe(idx);
  try {
    const idle = await pollHealth(base, new Promise((r) => setTimeout(r, 2000)));
    const results = [];
    for (const p of probes()) {
      progress(p.name);
      const started = performance.now();
      const answers = Promise.all(
        Array.from({ length: p.copies }, async () => {
          const { path, init } = p.request();
          const t = performance.now();
          const r = await fetch(`${base}${path}`, init);
          const text = await r.text();
          return { status: r.status, ms: performance.now() - t, bytes: text.length };
        }),
      );
      const health = await pollHealth(base, answers);
      const got = await answers;
      const h = summary(health.ms);
      results.push({
        probe: p.name,
        copies: p.copies,
        statuses: [...new Set(got.map((g) => g.status))],
        answerBytesMax: Math.max(...got.map((g) => g.bytes)),
        answeredWithinMs: round(performance.now() - started, 1),
        health: { ...h, non200: health.codes.filter((c) => c !== 200).length },
        healthP99OverIdle: round(h.p99 / summary(idle.ms).p99, 2),
        serverPeakRssMb: peakRssMb(child.pid as number),
      });
    }
    const out = {
      benchmark: 'serve-probes',
      items: n,
      dim: DIM,
      healthIdle: summary(idle.ms),
      probes: results,
      target: 'every /health answer 200 within 100 ms under every probe',
      met: results.every((r) => r.health.non200 === 0 && r.health.max < 100),
      machine: { ...machine, cpuFlags: cpuFlags() },
      loadAverage1mAfter: round(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]), 2),
    };
    console.log(JSON.stringify(out, null, 2));
  } finally {
    child.kill('SIGTERM');
  }
}

await runBenchMain(main);
