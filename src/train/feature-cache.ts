// --freeze-backbone: the training split embedded once by the frozen backbone (its features, before the
// head), with the eval transform (no random crop or flip: the cached features cannot be augmented), and
// kept in $NORMSOFTMAX_HOME/features/<key>.npy, the key a SHA-256 of what decides them: the backbone
// weights' SHA-256 (or the seed of a random one), the architecture, the transform, the data set and its
// samples. Training then reads rows of it: the head trains for many epochs in seconds.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipelineTransform } from '../data/image/transform-config.js';
import { createBatchSource } from '../data/sources/batch-source.js';
import type { DisposableSource, TrainingBatch } from '../data/sources/types.js';
import type { Dataset, Sample } from '../data/types.js';
import { sha256File } from '../embed/onnx/index.js';
import { loadNpy, saveNpy } from '../io/npy.js';
import type { Embedder } from '../nn/embedder.js';
import { type Device, noGrad, scope, tensor } from '../tensor/index.js';
import { FailureError } from '../util/errors.js';
import type { TrainConfig } from './config.js';

export function featureCacheDir(): string {
  return join(process.env.NORMSOFTMAX_HOME || join(homedir(), '.cache', 'normsoftmax'), 'features');
}

export interface CachedFeatures {
  /** [samples, width] row-major, in the order of the samples. */
  data: Float32Array;
  width: number;
  path: string;
  /** False when this call embedded them. */
  cached: boolean;
}

/** What decides the features, hashed: the same key, the same file. */
function cacheKey(model: Embedder, samples: readonly Sample[], c: TrainConfig, pretrained: string | null): string {
  const h = createHash('sha256');
  for (const s of samples) h.update(`${s.path}\u0000${s.label}\n`);
  const transform = { ...pipelineTransform(model.input, c.resize, c.crop), flipProbability: 0 };
  const what = {
    version: 1,
    arch: c.arch,
    weights: pretrained ? `sha256:${sha256File(pretrained)}` : `random init, seed ${c.seed}`,
    transform,
    dataset: c.dataset,
    root: c.root ? resolve(c.root) : '',
    samples: h.digest('hex'),
  };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

/**
 * The backbone's features of `samples` (model in eval mode, no gradients), from the cache or embedded now
 * and cached. The model is left in eval mode.
 */
export async function trainFeatures(
  model: Embedder,
  dataset: Dataset,
  samples: readonly Sample[],
  c: TrainConfig,
  pretrained: string | null,
): Promise<CachedFeatures> {
  const path = join(featureCacheDir(), `${cacheKey(model, samples, c, pretrained).slice(0, 32)}.npy`);
  const width = model.width;
  if (existsSync(path)) {
    const t = loadNpy(path);
    try {
      if (t.shape.join() === `${samples.length},${width}` && t.dtype === 'float32') {
        return { data: t.toTypedArray() as Float32Array, width, path, cached: true };
      }
    } finally {
      t.dispose();
    }
  }
  model.eval();
  const data = new Float32Array(samples.length * width);
  const source = createBatchSource(dataset, samples, model.input, { ...c, skipBadImages: false }, 'eval');
  let rows = 0;
  try {
    for await (const batch of source.ordered(64)) {
      try {
        const n = batch.images.size(0);
        const part = scope(() =>
          noGrad(() => {
            const x = c.device === 'cpu' ? batch.images : batch.images.to(c.device as Device);
            return model.backbone.features(x).to({ dtype: 'float32', device: 'cpu' }).toTypedArray() as Float32Array;
          }),
        );
        data.set(part, rows * width);
        rows += n;
      } finally {
        batch.images.dispose();
        batch.labels.dispose();
      }
    }
  } finally {
    await source.dispose?.();
  }
  if (rows !== samples.length) {
    throw new FailureError(`--freeze-backbone: embedded ${rows} of ${samples.length} training images`);
  }
  mkdirSync(featureCacheDir(), { recursive: true });
  scope(() => saveNpy(path, tensor(data, { shape: [samples.length, width] })));
  return { data, width, path, cached: false };
}

/** Batches of cached features: `images` is [B, width] (the head's input), `labels` [B] int64. */
export function featureSource(f: CachedFeatures, labels: readonly number[]): DisposableSource {
  const load = async (indices: number[]): Promise<TrainingBatch> => {
    const rows = new Float32Array(indices.length * f.width);
    for (const [r, i] of indices.entries()) rows.set(f.data.subarray(i * f.width, (i + 1) * f.width), r * f.width);
    return {
      images: tensor(rows, { shape: [indices.length, f.width] }),
      labels: tensor(
        indices.map((i) => labels[i] as number),
        { dtype: 'int64' },
      ),
    };
  };
  return {
    load,
    async *ordered(batchSize) {
      for (let start = 0; start < labels.length; start += batchSize) {
        yield await load(Array.from({ length: Math.min(batchSize, labels.length - start) }, (_, i) => start + i));
      }
    },
  };
}
