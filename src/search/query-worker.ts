// The query-embedder worker thread: loads the model once, then decodes, transforms and embeds batches of
// encoded images (bytes), one result per image (a vector, or why the image is unusable). Decoding is
// bounded by a budget of decoded pixels shared by every batch (query-images.ts). Fault point (tests):
// embed-worker:embed ends this thread when a batch arrives.
import { parentPort, workerData } from 'node:worker_threads';
import { BadImageError } from '../data/image/bad-image-error.js';
import type { EmbeddingEngine, EngineName } from '../embed/engine.js';
import { openEngine } from '../embed/open-engine.js';
import type { Precision } from '../tensor/precision.js';
import { firstLine } from '../util/errors.js';
import { faultPoint } from '../util/fault.js';
import { WeightedLimiter } from '../util/weighted-limiter.js';
import { DECODE_BUDGET_PIXELS, prepareQueryImages } from './query-images.js';
import { queryTransform } from './query-transform.js';

export interface QueryWorkerData {
  checkpoint: string;
  arch?: string;
  dim?: number;
  resize: number;
  crop: number;
  /** JPEG queries decoded at reduced size, as the index's items were (EmbedderIdentity.jpegDraft). */
  jpegDraft?: boolean;
  /** bf16: forwards under autocast (set in this thread: autocast state is per thread). */
  precision: Precision;
  /** chooseEngine's (query-embedder.ts); onnxruntime runs the exported model (cached next to the checkpoint). */
  engine: EngineName;
  threads?: number;
}

export type QueryResult = { ok: true; vector: Float32Array } | { ok: false; bad: boolean; message: string };
export type QueryWorkerReply =
  | { id: number; results: QueryResult[] }
  | { id: 0; ready: true; dim: number }
  | { id: 0; failed: string; kind: string };

const port = parentPort;
if (port === null) throw new Error('query-worker.ts must run in a worker thread');
const data = workerData as QueryWorkerData;

let engine: EmbeddingEngine;
let config: ReturnType<typeof queryTransform>;
try {
  const opened = await openEngine(data.checkpoint, {
    engine: data.engine,
    arch: data.arch,
    dim: data.dim,
    precision: data.precision,
    threads: data.threads,
  });
  engine = opened.engine;
  config = queryTransform(opened.input, data.resize, data.crop, data.jpegDraft === true);
  port.postMessage({ id: 0, ready: true, dim: engine.dim } satisfies QueryWorkerReply);
} catch (e) {
  port.postMessage({ id: 0, failed: firstLine(e), kind: (e as Error).name } satisfies QueryWorkerReply);
  throw e;
}

const limiter = new WeightedLimiter(DECODE_BUDGET_PIXELS);

async function handle(id: number, images: Uint8Array[]): Promise<void> {
  const results: QueryResult[] = new Array(images.length);
  const prepared = (await prepareQueryImages(images, { config, limiter })).map((p, i) => {
    if (!(p instanceof Error)) return p;
    results[i] = {
      ok: false,
      bad: p instanceof BadImageError,
      message: p instanceof BadImageError ? p.reason : firstLine(p),
    };
    return null;
  });
  // One forward pass per input shape (every shape is the same when the transform crops or resizes).
  const groups = new Map<string, number[]>();
  prepared.forEach((p, i) => {
    if (!p) return;
    const key = p.shape.join('x');
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  for (const members of groups.values()) {
    const first = prepared[members[0] as number];
    if (!first) continue;
    const per = first.chw.length;
    const batch = new Float32Array(per * members.length);
    members.forEach((i, j) => {
      batch.set((prepared[i] as typeof first).chw, j * per);
    });
    const out = await engine.embed(batch, [members.length, ...first.shape]);
    const dim = engine.dim;
    members.forEach((i, j) => {
      results[i] = { ok: true, vector: out.slice(j * dim, (j + 1) * dim) };
    });
  }
  port?.postMessage({ id, results } satisfies QueryWorkerReply);
}

port.on('message', (req: { id: number; images: Uint8Array[] }) => {
  faultPoint('embed-worker:embed');
  handle(req.id, req.images).catch((e: unknown) => {
    port?.postMessage({
      id: req.id,
      results: req.images.map(() => ({ ok: false, bad: false, message: firstLine(e) })),
    } satisfies QueryWorkerReply);
  });
});
