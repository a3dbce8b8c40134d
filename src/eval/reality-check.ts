// The evaluation of "A Metric Learning Reality Check" (Musgrave, Belongie & Lim, ECCV 2020): Precision@1,
// R-Precision and MAP@R of the test split searched against itself (self excluded), for each of the models
// trained on class-disjoint folds ("separated": their mean and 95% confidence interval) and for their
// embeddings concatenated ("concatenated": each model's embeddings L2-normalised, then joined per image).
// All three in percent.
import { cat, F, isFloating, scope, type Tensor } from '../tensor/index.js';
import { InputError } from '../util/errors.js';
import { type MeanInterval, meanInterval } from './confidence-interval.js';
import { runEvaluation } from './evaluate.js';
import { LabelCodes, type LabelsLike } from './labels.js';
import { maxRelevant } from './map-at-r.js';
import { precisionAt1 } from './precision-at-1.js';
import { MAX_ROWS_ITEMS, retrievalAtRSelf } from './retrieval-at-r.js';

export const REALITY_CHECK_METRICS = ['precisionAt1', 'rPrecision', 'mapAtR'] as const;
export type RealityCheckMetric = (typeof REALITY_CHECK_METRICS)[number];

/** Precision@1, R-Precision and MAP@R in percent. */
export type RealityCheckMetrics = Record<RealityCheckMetric, number>;

export interface RealityCheckResult {
  /** One entry per model, in the order given. */
  models: RealityCheckMetrics[];
  /** Mean and 95% confidence interval over the models (with two or more). */
  separated?: Record<RealityCheckMetric, MeanInterval>;
  /** The models' normalised embeddings concatenated (with two or more). */
  concatenated?: RealityCheckMetrics;
  /** Queries that entered the averages: those whose class has another image. */
  queries: number;
}

export interface RealityCheckOptions {
  tileSize?: number;
  /**
   * How neighbours are found: 'knn' keeps n x max R of them (src/eval/knn.ts), 'rows' goes through the
   * score rows a block at a time (src/eval/retrieval-at-r.ts, memory O(n) per row). Default: 'knn' unless
   * it would hold more than 2^24 neighbours (256 MB). Both give the same numbers.
   */
  search?: 'knn' | 'rows';
}

const KNN_NEIGHBOURS = 2 ** 24;

/** The three metrics of one set of embeddings, query set = gallery. */
export function realityCheckMetrics(
  embeddings: Tensor,
  labels: LabelsLike,
  o: RealityCheckOptions = {},
): RealityCheckMetrics & { queries: number } {
  const n = embeddings.rank === 2 ? embeddings.size(0) : 0;
  const codes = denseLabels(labels);
  const search =
    o.search ?? (codes && n * maxRelevant(codes, codes, true) > KNN_NEIGHBOURS && n <= MAX_ROWS_ITEMS ? 'rows' : 'knn');
  if (search === 'rows' && codes) {
    checkRowsInput(embeddings, codes);
    const m = retrievalAtRSelf(embeddings, codes);
    return finish(m.precisionAt1, m.rPrecision, m.mapAtR, m.queries);
  }
  // The k-NN evaluation checks the input itself (shape, labels, finite values).
  const run = runEvaluation({ embeddings, labels }, { k: [1], mapR: true, tileSize: o.tileSize });
  const p1 = precisionAt1(run.neighbors.float, run.queryLabels, run.galleryLabels, true);
  return finish(p1.precision, run.result.float.rPrecision as number, run.result.float.mapAtR as number, p1.queries);
}

function finish(p1: number, rp: number, map: number, queries: number): RealityCheckMetrics & { queries: number } {
  if (queries === 0) throw new InputError('MAP@R: every class of the evaluation set has a single image');
  return { precisionAt1: 100 * p1, rPrecision: 100 * rp, mapAtR: 100 * map, queries };
}

/** Dense codes of the labels, or undefined when they are not valid (the k-NN route then says why). */
function denseLabels(labels: LabelsLike): Int32Array | undefined {
  try {
    return new LabelCodes().encode(labels, 'labels');
  } catch {
    return undefined;
  }
}

function checkRowsInput(x: Tensor, codes: Int32Array): void {
  if (x.rank !== 2 || !isFloating(x.dtype)) {
    throw new InputError(`embeddings: expected a 2-d float array [n, d], got ${x.dtype} [${x.shape.join(', ')}]`);
  }
  if (x.size(0) !== codes.length) throw new InputError(`${x.size(0)} embeddings but ${codes.length} labels`);
  if (!scope(() => x.isfinite().all().item())) throw new InputError('embeddings contain NaN or infinite values');
}

/** Each model's L2-normalised embeddings side by side: [n, d1 + d2 + ...]. */
export function concatenateEmbeddings(models: readonly Tensor[]): Tensor {
  const n = models[0]?.size(0);
  for (const [i, m] of models.entries()) {
    if (m.rank !== 2 || m.size(0) !== n) {
      throw new InputError(`model ${i + 1}: ${m.shape.join(' x ')} embeddings, the first model has ${n} rows`);
    }
  }
  return scope(() =>
    cat(
      models.map((m) => F.normalize(m.to('float32'), { dim: 1 })),
      1,
    ),
  );
}

/** The Reality Check of models' embeddings of one evaluation set (the same images in the same order). */
export function realityCheck(
  models: readonly Tensor[],
  labels: LabelsLike,
  o: RealityCheckOptions = {},
): RealityCheckResult {
  if (models.length === 0) throw new RangeError('realityCheck needs at least one model');
  const strip = ({ queries: _q, ...m }: RealityCheckMetrics & { queries: number }): RealityCheckMetrics => m;
  const each = models.map((m) => realityCheckMetrics(m, labels, o));
  const result: RealityCheckResult = { models: each.map(strip), queries: (each[0] as { queries: number }).queries };
  if (models.length < 2) return result;
  const separated = {} as Record<RealityCheckMetric, MeanInterval>;
  for (const key of REALITY_CHECK_METRICS) separated[key] = meanInterval(result.models.map((m) => m[key]));
  result.separated = separated;
  const joined = concatenateEmbeddings(models);
  try {
    result.concatenated = strip(realityCheckMetrics(joined, labels, o));
  } finally {
    joined.dispose();
  }
  return result;
}
