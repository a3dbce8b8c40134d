// Embedding samples with any engine: our image pipeline (decode, resize, crop, normalise in worker
// threads) makes float32 batches; the engine (libtorch or onnxruntime) runs the forward.
import { createBatchSource } from '../data/sources/batch-source.js';
import { DEFAULT_PIPELINE, type PipelineOptions } from '../data/sources/types.js';
import type { Dataset, Sample } from '../data/types.js';
import type { InputSpec } from '../nn/input-spec.js';
import { createProgress } from '../util/progress.js';
import type { EmbeddingEngine } from './engine.js';

/** Unit-norm embeddings of the samples, in order: samples.length x engine.dim, row-major. */
export async function embedSamplesWith(
  engine: EmbeddingEngine,
  input: InputSpec,
  dataset: Dataset,
  samples: readonly Sample[],
  o: { batchSize?: number; pipeline?: PipelineOptions; silent?: boolean; label?: string } = {},
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
