// QueryEmbedder: embeds encoded query images (JPEG/PNG/WebP... bytes) with an index's embedder in a worker
// thread that loads the model once. Refuses a checkpoint whose SHA-256 differs from the one the index was
// built with (vectors of another model are not comparable) unless `force`.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { BadImageError } from '../data/image/bad-image-error.js';
import { resolveWeights } from '../data/weights/index.js';
import type { EngineName } from '../embed/engine.js';
import { isOnnxFile } from '../embed/open-engine.js';
import type { Precision } from '../tensor/precision.js';
import { FailureError, InputError, UsageError } from '../util/errors.js';
import type { QueryResult, QueryWorkerData, QueryWorkerReply } from './query-worker.js';
import { sha256File } from './sha256.js';
import type { EmbedderIdentity, QueryEmbedder } from './types.js';

const BOOT = new URL('./query-worker-boot.mjs', import.meta.url);

export interface QueryEmbedderOptions {
  /** Use this checkpoint instead of the one the manifest names. */
  checkpoint?: string;
  /** Accept a checkpoint whose SHA-256 differs from the manifest's. */
  force?: boolean;
  /** bf16: the worker's forwards under autocast (float32 vectors all the same). Default fp32. */
  precision?: Precision;
  /** Default libtorch; onnxruntime runs the exported model with `threads` intra-op threads. */
  engine?: EngineName;
  threads?: number;
}

/** A QueryEmbedder that can also answer per image (one bad upload does not fail a micro-batch). */
export interface SettledQueryEmbedder extends QueryEmbedder {
  /** One vector, or the error of that image, per image, in order. */
  embedSettled(images: readonly Uint8Array[]): Promise<(Float32Array | InputError)[]>;
}

export async function createQueryEmbedder(
  identity: EmbedderIdentity,
  o: QueryEmbedderOptions = {},
): Promise<SettledQueryEmbedder> {
  // --checkpoint may name weights (resnet50, ...): their cached file, downloaded when absent.
  const checkpoint = o.checkpoint !== undefined ? (await resolveWeights(o.checkpoint)).path : identity.checkpointPath;
  if (checkpoint === null) {
    throw new UsageError(
      'this index was built from precomputed vectors: give --checkpoint to embed query images (and --force)',
    );
  }
  if (!existsSync(checkpoint))
    throw new InputError(`checkpoint ${checkpoint} (the index's embedder) not found: give --checkpoint`);
  if (!o.force) {
    const sha = sha256File(checkpoint);
    if (identity.checkpointSha256 === null || sha !== identity.checkpointSha256) {
      throw new UsageError(
        `checkpoint ${checkpoint} is not the one the index was built with (SHA-256 ${sha.slice(0, 12)}... vs ${identity.checkpointSha256?.slice(0, 12) ?? 'none'}...): pass --force to use it anyway`,
      );
    }
  }
  const data: QueryWorkerData = {
    checkpoint,
    ...(identity.arch ? { arch: identity.arch } : {}),
    dim: identity.dim,
    resize: identity.resize,
    crop: identity.crop,
    ...(identity.jpegDraft ? { jpegDraft: true } : {}),
    ...(o.precision ? { precision: o.precision } : {}),
    // An index embedded by an .onnx model: only onnxruntime runs it.
    ...(o.engine || isOnnxFile(checkpoint) ? { engine: o.engine ?? 'onnxruntime' } : {}),
    ...(o.threads ? { threads: o.threads } : {}),
  };
  const worker = new Worker(BOOT, { workerData: data });
  const pending = new Map<number, (r: QueryResult[]) => void>();
  let dead: Error | null = null;
  let next = 1;
  const ready = new Promise<number>((resolve, reject) => {
    worker.on('message', (reply: QueryWorkerReply) => {
      if ('ready' in reply) resolve(reply.dim);
      else if ('failed' in reply)
        reject(
          reply.kind === 'UsageError'
            ? new UsageError(reply.failed)
            : new InputError(`checkpoint ${checkpoint}: ${reply.failed}`),
        );
      else {
        pending.get(reply.id)?.(reply.results);
        pending.delete(reply.id);
        if (pending.size === 0) worker.unref();
      }
    });
    const fail = (e: Error) => {
      dead ??= e;
      reject(e);
      for (const p of pending.values()) p([{ ok: false, bad: false, message: e.message }]);
      pending.clear();
    };
    worker.on('error', (e) => fail(new FailureError(`query embedder failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new FailureError(`query embedder stopped (code ${code})`)));
  });
  const dim = await ready.catch(async (e) => {
    await worker.terminate();
    throw e;
  });
  worker.unref();

  const run = (images: readonly Uint8Array[]): Promise<QueryResult[]> => {
    if (dead) return Promise.reject(dead);
    const id = next++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      worker.ref();
      worker.postMessage({ id, images: [...images] });
    });
  };
  const settle = (r: QueryResult | undefined, i: number): Float32Array | InputError => {
    if (r?.ok) return r.vector;
    if (r?.bad) return new BadImageError(`image ${i + 1}`, r.message);
    return new FailureError(`embedding image ${i + 1} failed: ${r?.message ?? 'no result'}`) as unknown as InputError;
  };
  return {
    dim,
    async embedSettled(images) {
      if (images.length === 0) return [];
      const results = await run(images);
      return images.map((_, i) => settle(results[i], i));
    },
    async embed(images) {
      if (images.length === 0) return [];
      const results = await run(images);
      return images.map((_, i) => {
        const v = settle(results[i], i);
        if (v instanceof Error) throw v;
        return v;
      });
    },
    async close() {
      dead ??= new Error('query embedder closed');
      await worker.terminate();
    },
  };
}
