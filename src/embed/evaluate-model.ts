// Zero-shot evaluation of a model (during training, or of a loaded one): embed the test classes (CUB, Cars,
// SOP: test split searched against itself; In-Shop: query against gallery) and compute Recall@K (float and
// binary) and NMI. The live model is embedded through the one embedding loop (embed-samples.ts) by a
// libtorch engine that borrows it: eval mode and channels_last while embedding, as it was afterwards.
import type { PipelineOptions } from '../data/sources/types.js';
import type { Dataset, Sample } from '../data/types.js';
import { type EvalInput, type EvalResult, evaluate } from '../eval/evaluate.js';
import type { NmiMethod } from '../eval/nmi.js';
import type { Embedder } from '../nn/embedder.js';
import { type Tensor, tensor, zeros } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { InputError } from '../util/errors.js';
import { embedSamples } from './embed-samples.js';
import { type EmbeddingShard, embedSharded } from './embed-shard.js';
import { libtorchEngine } from './libtorch-engine.js';

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

/**
 * evaluateModel with the embedding shared by the ranks of a data-parallel job (every rank calls it):
 * the metrics on rank 0, null on the others.
 */
export async function evaluateModelSharded(
  model: Embedder,
  dataset: Dataset,
  c: PipelineOptions & { k: number[]; nmiMethod?: NmiMethod },
  o: ModelEvalOptions,
  shard: EmbeddingShard,
): Promise<EvalResult | null> {
  return evaluateWith(model, dataset, c, o, shard);
}

export async function evaluateModel(
  model: Embedder,
  dataset: Dataset,
  c: PipelineOptions & { k: number[]; nmiMethod?: NmiMethod },
  o: ModelEvalOptions = {},
): Promise<EvalResult> {
  return (await evaluateWith(model, dataset, c, o, null)) as EvalResult;
}

async function evaluateWith(
  model: Embedder,
  dataset: Dataset,
  c: PipelineOptions & { k: number[]; nmiMethod?: NmiMethod },
  o: ModelEvalOptions,
  shard: EmbeddingShard | null,
): Promise<EvalResult | null> {
  const pipeline: PipelineOptions = {
    seed: c.seed,
    resize: c.resize,
    crop: c.crop,
    workers: c.workers,
    skipBadImages: c.skipBadImages,
  };
  const engine = libtorchEngine(model, { precision: o.precision, borrowed: true });
  const embedRows = (samples: readonly Sample[], label: string) =>
    embedSamples(engine, model.input, dataset, samples, { pipeline, silent: o.silent, label });
  // In a job, rank 0 gets every row and the others a tensor with no rows ("not this rank's to evaluate").
  const embed = async (samples: Sample[], label: string): Promise<Tensor> => {
    const rows = shard
      ? await embedSharded(shard, samples, engine.dim, (mine) => embedRows(mine, label))
      : await embedRows(samples, label);
    return rows === null ? zeros([0, engine.dim]) : tensor(rows, { shape: [samples.length, engine.dim] });
  };
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
    if (shard && shard.rank !== 0) return null;
    return evaluate(input, {
      k: c.k,
      binary: o.binary ?? true,
      nmi: o.nmi ? { seed: c.seed, method: c.nmiMethod } : false,
      mapR: o.mapR,
    });
  } finally {
    for (const t of owned) t.dispose();
    engine.dispose();
  }
}
