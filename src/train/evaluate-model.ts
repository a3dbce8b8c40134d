// Zero-shot evaluation of a model during training: embed the test classes (CUB, Cars, SOP: test split
// searched against itself; In-Shop: query against gallery) and compute Recall@K (float and binary) and NMI.
import { UserError } from '../cli/errors.js';
import type { Dataset, Sample } from '../data/types.js';
import { type EvalInput, evaluate } from '../eval/evaluate.js';
import type { Embedder } from '../nn/embedder.js';
import type { TrainConfig } from './config.js';
import { embedSamples } from './embed.js';
import type { EvalRecord } from './metrics.js';

export interface ModelEvalOptions {
  silent?: boolean;
  /** Evaluate on these samples (query = gallery) instead of the data set's test split. */
  testSamples?: Sample[];
  nmi?: boolean;
  binary?: boolean;
}

export async function evaluateModel(
  model: Embedder,
  dataset: Dataset,
  c: Pick<TrainConfig, 'k' | 'seed' | 'resize' | 'crop' | 'workers' | 'skipBadImages'>,
  o: ModelEvalOptions = {},
): Promise<EvalRecord> {
  const pipeline = { seed: c.seed, resize: c.resize, crop: c.crop, workers: c.workers, skipBadImages: c.skipBadImages };
  const embed = (samples: Sample[], label: string) =>
    embedSamples(model, dataset, samples, { pipeline, silent: o.silent, label });
  const labels = (samples: Sample[]) => Int32Array.from(samples, (s) => s.label);
  const { query, gallery, test } = dataset.splits;
  let input: EvalInput;
  const owned = [];
  if (o.testSamples || test) {
    const samples = o.testSamples ?? (test as Sample[]);
    const embeddings = await embed(samples, 'embedding test');
    owned.push(embeddings);
    input = { embeddings, labels: labels(samples) };
  } else if (query && gallery) {
    const q = await embed(query, 'embedding query');
    const g = await embed(gallery, 'embedding gallery');
    owned.push(q, g);
    input = { query: { embeddings: q, labels: labels(query) }, gallery: { embeddings: g, labels: labels(gallery) } };
  } else {
    throw new UserError(`${dataset.name}: the data set has neither a test split nor query/gallery splits to evaluate`);
  }
  try {
    return evaluate(input, { k: c.k, binary: o.binary ?? true, nmi: o.nmi ? { seed: c.seed } : false });
  } finally {
    for (const t of owned) t.dispose();
  }
}
