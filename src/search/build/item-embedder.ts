// Embeds items with a checkpoint (what `embed` takes), with the checkpoint's eval pipeline, through
// src/embed (the image pipeline in worker threads), forwards by either engine. Its identity (the
// checkpoint's SHA-256, whichever engine runs it) goes into the manifest, so that queries are embedded
// the same way.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dataset, Sample } from '../../data/types.js';
import { embedSamples, pipelineOf } from '../../embed/embed-samples.js';
import type { EngineName } from '../../embed/engine.js';
import { openEngine } from '../../embed/open-engine.js';
import type { Precision } from '../../tensor/precision.js';
import { InputError } from '../../util/errors.js';
import { sha256File } from '../sha256.js';
import type { EmbedderIdentity } from '../types.js';

export interface ItemEmbedder {
  readonly identity: EmbedderIdentity;
  readonly description: string;
  /** Unit vectors of the samples, n x dim row-major; a BadImageError names the first bad image. */
  embed(dataset: Dataset, samples: readonly Sample[]): Promise<Float32Array>;
  close(): void;
}

export interface ModelEmbedderOptions {
  arch?: string;
  dim?: number;
  batchSize?: number;
  workers?: number;
  /** bf16: the forwards under autocast (float32 vectors all the same). Default fp32. */
  precision?: Precision;
  /**
   * Default: chooseEngine's (libtorch for bf16, onnxruntime for an .onnx model, else DEFAULT_ENGINE);
   * onnxruntime runs the exported (cached) model with `threads` intra-op threads.
   */
  engine?: EngineName;
  threads?: number;
  /** Decode JPEGs at reduced size where that still covers the resize (Pillow's draft). */
  jpegDraft?: boolean;
  log?: (line: string) => void;
}

export async function modelEmbedder(checkpoint: string, o: ModelEmbedderOptions = {}): Promise<ItemEmbedder> {
  if (!existsSync(checkpoint)) throw new InputError(`--checkpoint ${checkpoint}: no such file`);
  const checkpointSha256 = sha256File(checkpoint);
  const { engine, description, config, input } = await openEngine(checkpoint, {
    engine: o.engine,
    arch: o.arch,
    dim: o.dim,
    precision: o.precision,
    threads: o.threads,
    log: o.log,
  });
  const pipeline = {
    ...pipelineOf(config, input),
    ...(o.workers === undefined ? {} : { workers: o.workers }),
    jpegDraft: o.jpegDraft === true,
  };
  const identity: EmbedderIdentity = {
    checkpointSha256,
    checkpointPath: resolve(checkpoint),
    arch: config?.arch ?? o.arch ?? null,
    dim: engine.dim,
    input: { ...input, mean: [...input.mean], std: [...input.std] },
    resize: pipeline.resize,
    crop: pipeline.crop,
    ...(pipeline.jpegDraft ? { jpegDraft: true as const } : {}),
  };
  return {
    identity,
    description,
    async embed(dataset, samples) {
      return embedSamples(engine, input, dataset, samples, {
        batchSize: o.batchSize ?? 64,
        pipeline,
        silent: true,
      });
    },
    close: () => engine.dispose(),
  };
}
