// Picks how images reach the model: in-memory tensors for MNIST-like data, the image pipeline (decode in
// worker threads, Pillow-exact resize, seeded crop and flip, normalise) for image files. The trainer asks
// for one batch ahead, so decoding overlaps the current step.

import type { InputSpec } from '../../nn/input-spec.js';
import { InputError } from '../../util/errors.js';
import { pipelineTransform } from '../image/transform-config.js';
import { BatchLoader } from '../loader/index.js';
import type { Dataset, Sample } from '../types.js';
import { InMemoryImages } from './memory.js';
import type { DisposableSource, PipelineOptions, TrainingBatch } from './types.js';

export function createBatchSource(
  dataset: Dataset,
  samples: readonly Sample[],
  input: InputSpec,
  c: PipelineOptions,
  mode: 'train' | 'eval',
): DisposableSource {
  if (dataset.readRaw) {
    const images = new InMemoryImages(dataset, samples, input, {
      seed: c.seed,
      flip: mode === 'train',
      shift: mode === 'train' ? (c.shift ?? 0) : 0,
    });
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

function createFileSource(
  dataset: Dataset,
  samples: readonly Sample[],
  input: InputSpec,
  c: PipelineOptions,
  mode: 'train' | 'eval',
): DisposableSource {
  const transform = pipelineTransform(input, c.resize, c.crop, c.jpegDraft === true);
  const loader = new BatchLoader({
    dataset,
    samples,
    transform,
    mode,
    seed: c.seed,
    workers: c.workers,
    skipBadImages: c.skipBadImages,
  });
  const take = async (indices: number[], epoch: number, batch: number): Promise<TrainingBatch> => {
    for await (const loaded of loader.batches([indices], { epoch, firstBatch: batch })) {
      return { images: loaded.images, labels: loaded.labels };
    }
    throw new InputError(`${dataset.name}: every image of batch ${batch + 1} (epoch ${epoch + 1}) was unreadable`);
  };
  return {
    load: take,
    async *ordered(batchSize) {
      const chunks: number[][] = [];
      for (let start = 0; start < samples.length; start += batchSize) {
        chunks.push(Array.from({ length: Math.min(batchSize, samples.length - start) }, (_, i) => start + i));
      }
      for await (const loaded of loader.batches(chunks)) yield { images: loaded.images, labels: loaded.labels };
    },
    dispose: () => loader.close(),
  };
}
