// Image files through the image pipeline (decode in worker threads, Pillow-exact resize, seeded crop and
// flip, normalise). The trainer asks for one batch ahead, so decoding overlaps the current step.
import { UserError } from '../cli/errors.js';
import { transformForInput } from '../data/image/transform-config.js';
import { BatchLoader } from '../data/loader/index.js';
import type { Dataset, Sample } from '../data/types.js';
import type { InputSpec } from '../nn/input-spec.js';
import type { DisposableSource, PipelineOptions } from './sources.js';
import type { TrainingBatch } from './trainer.js';

export function createFileSource(
  dataset: Dataset,
  samples: readonly Sample[],
  input: InputSpec,
  c: PipelineOptions,
  mode: 'train' | 'eval',
): DisposableSource {
  const base = transformForInput(input);
  const transform =
    base.resize === null
      ? base
      : {
          ...base,
          resize: c.resize > 0 ? { width: c.resize, height: c.resize } : null,
          crop: c.crop > 0 ? { width: c.crop, height: c.crop } : null,
        };
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
    throw new UserError(`${dataset.name}: every image of batch ${batch + 1} (epoch ${epoch + 1}) was unreadable`);
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
