// The serve memory benchmark's parts, shared with its test: an index whose embedder is bare resnet18 weights
// at ImageNet's 256/224 resize and crop (random item vectors: only the query side is measured), a real
// `normsoftmax serve` child process, and the peak resident memory the kernel recorded for it (VmHWM in
// /proc/PID/status: the JS heap, libtorch, libvips and the decoded pixels all count).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { ResNet } from '../../src/nn/index.js';
import { IMAGENET_INPUT } from '../../src/nn/input-spec.js';
import { sha256File } from '../../src/search/sha256.js';
import type { ItemMeta } from '../../src/search/types.js';
import { writeUsearchIndex } from '../../src/search/usearch/write.js';
import { manualSeed } from '../../src/tensor/index.js';
import { randomUnit } from '../common/vectors.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ITEMS = 1000;
const DIM = 128;

/** An index at dir/idx (kept when already there) whose queries resnet18 embeds at 256/224, JPEGs drafted or not. */
export async function memoryIndex(dir: string, jpegDraft: boolean): Promise<string> {
  const idx = join(dir, jpegDraft ? 'idx-draft' : 'idx');
  if (existsSync(join(idx, 'manifest.json'))) return idx;
  mkdirSync(dir, { recursive: true });
  const weights = join(dir, 'resnet18.safetensors');
  if (!existsSync(weights)) {
    manualSeed(0);
    const net = new ResNet(18);
    try {
      saveSafetensors(weights, net.stateDict());
    } finally {
      net.dispose();
    }
  }
  const items: ItemMeta[] = Array.from({ length: ITEMS }, (_, i) => ({
    id: `item${i}`,
    path: null,
    label: null,
    size: null,
    hash: null,
  }));
  await writeUsearchIndex(
    idx,
    { items, dim: DIM, vectors: randomUnit(ITEMS, DIM, 1) },
    {
      precision: 'f32',
      exactBelow: 50_000,
      embedder: {
        checkpointSha256: sha256File(weights),
        checkpointPath: weights,
        arch: 'resnet18',
        dim: DIM,
        input: IMAGENET_INPUT,
        resize: 256,
        crop: 224,
        ...(jpegDraft ? { jpegDraft: true as const } : {}),
      },
      imageRoot: null,
      source: { kind: 'embeddings', detail: { bench: 'serve-memory' } },
    },
  );
  return idx;
}

export interface Serve {
  child: ChildProcess;
  url: string;
  log: () => string;
  stop: () => Promise<void>;
}

/** `normsoftmax serve --index idx --port 0 ...extra` with `threads` intra-op threads, once it listens. */
export async function startServe(idx: string, threads: number, extra: readonly string[] = []): Promise<Serve> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'normsoftmax.mjs'), 'serve', '--index', idx, '--port', '0', ...extra],
    { cwd: ROOT, env: { ...process.env, NORMSOFTMAX_THREADS: String(threads) }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; i < 1800; i++) {
    const m = log.match(/on (http:\/\/127\.0\.0\.1:\d+)/);
    if (m) return { child, url: m[1] as string, log: () => log, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`serve did not start: ${log.trim().split('\n').pop()}`);
}

const MIB = 1024 * 1024;

/** Resident memory now and its peak so far (VmRSS, VmHWM), in MiB, of a Linux process. */
export function residentMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? Number.NaN);
  return { rss: Math.round((kib('VmRSS') * 1024) / MIB), peak: Math.round((kib('VmHWM') * 1024) / MIB) };
}

export interface Answer {
  status: number;
  error?: string;
  ms: number;
}

/** POSTs body as a raw image upload; the status, the error message if any, and the time to the answer. */
export async function upload(url: string, body: Buffer, type: string): Promise<Answer> {
  const t = performance.now();
  const r = await fetch(`${url}/api/search?k=5`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: new Uint8Array(body),
  });
  const json = (await r.json()) as { error?: string };
  return { status: r.status, ...(json.error ? { error: json.error } : {}), ms: performance.now() - t };
}

/** n uploads of body at once: their answers and the wall time until the last one. */
export async function concurrentUploads(url: string, body: Buffer, type: string, n: number) {
  const t = performance.now();
  const answers = await Promise.all(Array.from({ length: n }, () => upload(url, body, type)));
  return { answers, ms: performance.now() - t };
}
