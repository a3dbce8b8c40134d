// Embeds items with a checkpoint (what `embed` takes), with the checkpoint's eval pipeline, through
// src/embed (the image pipeline in worker threads). Its identity goes into the manifest, so that queries
// are embedded the same way.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dataset, Sample } from '../../data/types.js';
import { embedSamples, pipelineOf } from '../../embed/embed-samples.js';
import { loadModel } from '../../embed/load-model.js';
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
}

export function modelEmbedder(checkpoint: string, o: ModelEmbedderOptions = {}): ItemEmbedder {
  if (!existsSync(checkpoint)) throw new InputError(`--checkpoint ${checkpoint}: no such file`);
  const checkpointSha256 = sha256File(checkpoint);
  const { model, description, config } = loadModel(checkpoint, { arch: o.arch, dim: o.dim });
  const pipeline = { ...pipelineOf(config), ...(o.workers === undefined ? {} : { workers: o.workers }) };
  const identity: EmbedderIdentity = {
    checkpointSha256,
    checkpointPath: resolve(checkpoint),
    arch: config?.arch ?? o.arch ?? null,
    dim: model.dim,
    input: { ...model.input, mean: [...model.input.mean], std: [...model.input.std] },
    resize: pipeline.resize,
    crop: pipeline.crop,
  };
  return {
    identity,
    description,
    async embed(dataset, samples) {
      const t = await embedSamples(model, dataset, samples, {
        batchSize: o.batchSize ?? 64,
        pipeline,
        silent: true,
        precision: o.precision,
      });
      try {
        return t.toTypedArray() as Float32Array;
      } finally {
        t.dispose();
      }
    },
    close: () => model.dispose(),
  };
}
