// Embedding whole splits with a model, in eval mode and without autograd.
import { createBatchSource } from '../data/sources/batch-source.js';
import { DEFAULT_PIPELINE, type PipelineOptions } from '../data/sources/types.js';
import type { Dataset, Sample } from '../data/types.js';
import type { Embedder } from '../nn/embedder.js';
import { cat, type Device, keep, noGrad, scope, type Tensor } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { createProgress } from '../util/progress.js';
import { embedBatch } from './embed-batch.js';

/** The eval pipeline a model was trained with (its resize and crop), or the paper's default. */
export function pipelineOf(config: { resize: number; crop: number } | null): PipelineOptions {
  return config ? { ...DEFAULT_PIPELINE, resize: config.resize, crop: config.crop } : { ...DEFAULT_PIPELINE };
}

/** Unit-norm embeddings [N, dim] of the samples, in order. */
export async function embedSamples(
  model: Embedder,
  dataset: Dataset,
  samples: readonly Sample[],
  o: {
    batchSize?: number;
    pipeline?: PipelineOptions;
    silent?: boolean;
    label?: string;
    /** bf16: the forward under autocast (float32 embeddings all the same). Default fp32. */
    precision?: Precision;
  } = {},
): Promise<Tensor> {
  const batchSize = o.batchSize ?? 128;
  const source = createBatchSource(dataset, samples, model.input, o.pipeline ?? DEFAULT_PIPELINE, 'eval');
  const progress = createProgress({ label: o.label ?? 'embedding', total: samples.length, silent: o.silent });
  const wasTraining = model.training;
  const wasFormat = model.memoryFormat;
  model.eval();
  // channels_last for the forward passes (see libtorch-engine.ts), back as it was afterwards: a model
  // in training keeps the memory its optimiser state matches.
  model.toMemoryFormat('channels_last');
  const parts: Tensor[] = [];
  const device = model.parameters()[0]?.device ?? 'cpu';
  try {
    let done = 0;
    for await (const batch of source.ordered(batchSize)) {
      try {
        parts.push(
          keep(scope(() => noGrad(() => embedBatch(model, onDevice(batch.images, device), o.precision).to('cpu')))),
        );
        done += batch.images.size(0);
      } finally {
        batch.images.dispose();
        batch.labels.dispose();
      }
      progress.update(done);
    }
    return scope(() => cat(parts, 0));
  } finally {
    progress.stop();
    for (const p of parts) p.dispose();
    await source.dispose?.();
    model.train(wasTraining);
    model.toMemoryFormat(wasFormat);
  }
}

function onDevice(x: Tensor, device: Device): Tensor {
  return device === 'cpu' ? x : x.to(device);
}
