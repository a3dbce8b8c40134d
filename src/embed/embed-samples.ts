// The one embedding loop: our image pipeline (decode, resize, crop, normalise in worker threads) makes
// float32 batches, an EmbeddingEngine (libtorch or onnxruntime; over a loaded model or a live one in
// training) runs the forward. `embed`, `index build`, `eval --checkpoint` and evaluation during training
// all embed through it.
import { createBatchSource } from '../data/sources/batch-source.js';
import { DEFAULT_PIPELINE, type PipelineOptions } from '../data/sources/types.js';
import type { Dataset, Sample } from '../data/types.js';
import type { InputSpec } from '../nn/input-spec.js';
import { createProgress } from '../util/progress.js';
import type { EmbeddingEngine } from './engine.js';

/**
 * The eval pipeline a model was trained with (its resize and crop); for bare weights, its publisher's
 * (a ViT's input spec names its resize, crop = the input size), else the paper's 256 / 224.
 */
export function pipelineOf(config: { resize: number; crop: number } | null, input?: InputSpec): PipelineOptions {
  if (config) return { ...DEFAULT_PIPELINE, resize: config.resize, crop: config.crop };
  if (input?.resize !== undefined) return { ...DEFAULT_PIPELINE, resize: input.resize, crop: input.size };
  return { ...DEFAULT_PIPELINE };
}

export interface EmbedSamplesOptions {
  /** Images per forward (default 128). */
  batchSize?: number;
  /** The eval pipeline (default DEFAULT_PIPELINE; pipelineOf gives a checkpoint's). */
  pipeline?: PipelineOptions;
  silent?: boolean;
  /** The progress line's label (default "embedding"). */
  label?: string;
}

/**
 * Unit-norm float32 embeddings of the samples, in order: samples.length x engine.dim, row-major. `input`
 * is how the model wants its images (channels, colour order, range, mean, std).
 */
export async function embedSamples(
  engine: EmbeddingEngine,
  input: InputSpec,
  dataset: Dataset,
  samples: readonly Sample[],
  o: EmbedSamplesOptions = {},
): Promise<Float32Array> {
  const batchSize = o.batchSize ?? 128;
  const source = createBatchSource(dataset, samples, input, o.pipeline ?? DEFAULT_PIPELINE, 'eval');
  const progress = createProgress({ label: o.label ?? 'embedding', total: samples.length, silent: o.silent });
  const out = new Float32Array(samples.length * engine.dim);
  try {
    let done = 0;
    for await (const batch of source.ordered(batchSize)) {
      let images: Float32Array;
      let shape: number[];
      try {
        images = batch.images.toTypedArray() as Float32Array;
        shape = batch.images.shape.slice();
      } finally {
        batch.images.dispose();
        batch.labels.dispose();
      }
      out.set(await engine.embed(images, shape), done * engine.dim);
      done += shape[0] as number;
      progress.update(done);
    }
    return out;
  } finally {
    progress.stop();
    await source.dispose?.();
  }
}
