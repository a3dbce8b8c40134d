// Zero-shot evaluation of a model (during training, or of a loaded one): embed the test classes (CUB, Cars,
// SOP: test split searched against itself; In-Shop: query against gallery) and compute Recall@K (float and
// binary) and NMI.
import type { PipelineOptions } from '../data/sources/types.js';
import type { Dataset, Sample } from '../data/types.js';
import { type EvalInput, type EvalResult, evaluate } from '../eval/evaluate.js';
import type { NmiMethod } from '../eval/nmi.js';
import type { Embedder } from '../nn/embedder.js';
import type { Tensor } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { InputError } from '../util/errors.js';
import { embedSamples } from './embed-samples.js';

export interface ModelEvalOptions {
  silent?: boolean;
  /** Evaluate on these samples (query = gallery) instead of the data set's test split. */
  testSamples?: Sample[];
  nmi?: boolean;
  binary?: boolean;
  /** bf16: the forwards under autocast (float32 embeddings all the same). Default fp32. */
  precision?: Precision;
  /** Also MAP@R and R-Precision (the validation fold of train --folds: the Reality Check's metrics). */
  mapR?: boolean;
}

export async function evaluateModel(
  model: Embedder,
  dataset: Dataset,
  c: PipelineOptions & { k: number[]; nmiMethod?: NmiMethod },
  o: ModelEvalOptions = {},
): Promise<EvalResult> {
  const pipeline: PipelineOptions = {
    seed: c.seed,
    resize: c.resize,
    crop: c.crop,
    workers: c.workers,
    skipBadImages: c.skipBadImages,
  };
  const embed = (samples: Sample[], label: string) =>
    embedSamples(model, dataset, samples, { pipeline, silent: o.silent, label, precision: o.precision });
  const labels = (samples: Sample[]) => Int32Array.from(samples, (s) => s.label);
  const { query, gallery, test } = dataset.splits;
  const owned: Tensor[] = [];
  try {
    let input: EvalInput;
    if (o.testSamples || test) {
      const samples = o.testSamples ?? (test as Sample[]);
      const embeddings = await embed(samples, 'embedding test');
      owned.push(embeddings);
      input = { embeddings, labels: labels(samples) };
    } else if (query && gallery) {
      const q = await embed(query, 'embedding query');
      owned.push(q);
      const g = await embed(gallery, 'embedding gallery');
      owned.push(g);
      input = { query: { embeddings: q, labels: labels(query) }, gallery: { embeddings: g, labels: labels(gallery) } };
    } else {
      throw new InputError(
        `${dataset.name}: the data set has neither a test split nor query/gallery splits to evaluate`,
      );
    }
    return evaluate(input, {
      k: c.k,
      binary: o.binary ?? true,
      nmi: o.nmi ? { seed: c.seed, method: c.nmiMethod } : false,
      mapR: o.mapR,
    });
  } finally {
    for (const t of owned) t.dispose();
  }
}
