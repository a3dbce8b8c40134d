// Zero-shot evaluation of a model (during training, or of a loaded one): embed the test classes (CUB, Cars,
// SOP: test split searched against itself; In-Shop: query against gallery) and compute Recall@K (float and
// binary) and NMI. The live model is embedded through the one embedding loop (embed-samples.ts) by a
// libtorch engine that borrows it: eval mode and channels_last while embedding, as it was afterwards.
import type { PipelineOptions } from '../data/sources/types.js';
import type { Dataset, Sample } from '../data/types.js';
import { type EvalInput, type EvalResult, evaluate } from '../eval/evaluate.js';
import type { NmiMethod } from '../eval/nmi.js';
import type { Embedder } from '../nn/embedder.js';
import { cat, type Tensor, tensor, zeros } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { InputError } from '../util/errors.js';
import { embedSamples } from './embed-samples.js';
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

/** Data-parallel evaluation: each rank embeds a contiguous slice of the images, rank 0 gets them all. */
export interface EmbeddingShard {
  readonly rank: number;
  readonly worldSize: number;
  /** Every rank's `local` (rank order; each has `rows` rows) stacked on rank 0; null on the others. */
  gather(local: Tensor, rows: number): Promise<Tensor | null>;
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
  const embedAll = async (samples: Sample[], label: string): Promise<Tensor> =>
    tensor(await embedSamples(engine, model.input, dataset, samples, { pipeline, silent: o.silent, label }), {
      shape: [samples.length, engine.dim],
    });
  const embed = shard ? (samples: Sample[], label: string) => embedShard(samples, label) : embedAll;
  // This rank's slice (zero rows padded to the same count on every rank), gathered on rank 0; a
  // tensor with no rows stands for "not this rank's to evaluate".
  const embedShard = async (samples: Sample[], label: string): Promise<Tensor> => {
    const s = shard as EmbeddingShard;
    const per = Math.ceil(samples.length / s.worldSize);
    const start = Math.min(samples.length, s.rank * per);
    const end = Math.min(samples.length, start + per);
    const mine = end > start ? await embedAll(samples.slice(start, end), label) : zeros([0, model.dim]);
    const padded = end - start < per ? cat([mine, zeros([per - (end - start), model.dim])]) : mine;
    if (padded !== mine) mine.dispose();
    try {
      const all = await s.gather(padded, per);
      if (all === null) return zeros([0, model.dim]);
      const rows = all.slice(0, 0, samples.length).contiguous();
      all.dispose();
      return rows;
    } finally {
      padded.dispose();
    }
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
