// Picks how images reach the model: in-memory tensors for MNIST-like data, the image pipeline
// (decode, resize, crop, flip, normalise with prefetch) for image files.
import type { Dataset, Sample } from '../data/types.js';
import type { InputSpec } from '../nn/input-spec.js';
import type { TrainConfig } from './config.js';
import { createFileSource } from './image-source.js';
import { InMemoryImages } from './memory-source.js';
import type { BatchSource, TrainingBatch } from './trainer.js';

/** The settings of the input pipeline: augmentation seed, resize/crop sizes, decode workers, bad images. */
export type PipelineOptions = Pick<TrainConfig, 'seed' | 'resize' | 'crop' | 'workers' | 'skipBadImages'>;

export interface DisposableSource extends BatchSource {
  /** The samples in order, in batches, with the eval transform (for embedding a split). */
  ordered(batchSize: number): AsyncGenerator<TrainingBatch>;
  dispose?(): void | Promise<void>;
}

export function createBatchSource(
  dataset: Dataset,
  samples: readonly Sample[],
  input: InputSpec,
  c: PipelineOptions,
  mode: 'train' | 'eval',
): DisposableSource {
  if (dataset.readRaw) {
    const images = new InMemoryImages(dataset, samples, input, { seed: c.seed, flip: mode === 'train' });
    return {
      load: (indices, epoch, batch) => images.load(indices, epoch, batch),
      async *ordered(batchSize) {
        yield* images.batches(batchSize);
      },
      dispose: () => images.dispose(),
    };
  }
  return createFileSource(dataset, samples, input, c, mode);
}
