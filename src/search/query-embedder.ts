// QueryEmbedder: embeds encoded query images (JPEG/PNG/WebP... bytes) with an index's embedder in a worker
// thread that loads the model once, supervised (a thread that dies is started again, util/supervised-worker.ts). Refuses a checkpoint whose SHA-256 differs from the one the index was
// built with (vectors of another model are not comparable) unless `force`.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { BadImageError } from '../data/image/bad-image-error.js';
import { resolveWeights } from '../data/weights/index.js';
import { chooseEngine } from '../embed/choose-engine.js';
import type { EngineName } from '../embed/engine.js';
import type { Precision } from '../tensor/precision.js';
import { FailureError, InputError, UsageError } from '../util/errors.js';
import { withoutFaults } from '../util/fault.js';
import { type Settled, SupervisedWorker } from '../util/supervised-worker.js';
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
  /**
   * Default: chooseEngine's for the checkpoint (libtorch for bf16, onnxruntime for an .onnx model, else
   * DEFAULT_ENGINE); onnxruntime runs the exported model with `threads` intra-op threads.
   */
  engine?: EngineName;
  threads?: number;
  /** Where a restart of the worker is reported (default stderr). */
  log?: (line: string) => void;
}

/** A reply of the worker as the answer to a call: the ready message is the answer to call 0. */
function settleReply(reply: QueryWorkerReply, checkpoint: string): Settled | undefined {
  if ('ready' in reply) return { id: 0, value: reply.dim };
  if ('failed' in reply) {
    const error =
      reply.kind === 'UsageError'
        ? new UsageError(reply.failed)
        : new InputError(`checkpoint ${checkpoint}: ${reply.failed}`);
    return { id: 0, error };
  }
  return { id: reply.id, value: reply.results };
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
  // Decided here, so that a contradiction (bf16 on onnxruntime) fails before a thread starts.
  const choice = chooseEngine({ checkpoint, engine: o.engine, precision: o.precision });
  const data: QueryWorkerData = {
    checkpoint,
    ...(identity.arch ? { arch: identity.arch } : {}),
    dim: identity.dim,
    resize: identity.resize,
    crop: identity.crop,
    ...(identity.jpegDraft ? { jpegDraft: true } : {}),
    engine: choice.engine,
    precision: choice.precision,
    ...(o.threads ? { threads: o.threads } : {}),
  };
  const worker = new SupervisedWorker({
    name: 'embedding worker',
    // A restarted thread runs without injected faults, so that a crash test can watch it recover.
    create: (restart) => new Worker(BOOT, { workerData: data, ...(restart ? { env: withoutFaults() } : {}) }),
    settle: (m) => settleReply(m as QueryWorkerReply, checkpoint),
    handshake: true,
    log: o.log ?? ((line) => console.error(`normsoftmax: ${line}`)),
  });
  await worker.started;
  const dim = worker.readyValue as number;

  const run = (images: readonly Uint8Array[]): Promise<QueryResult[]> =>
    worker.call({ images: [...images] }) as Promise<QueryResult[]>;
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
    health: () => worker.health(),
    close: () => worker.close(),
  };
}
