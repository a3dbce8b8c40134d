// evaluate for library users: the retrieval metrics of embeddings given as plain arrays (row-major floats and
// integer labels), as `normsoftmax eval` computes them (src/eval/evaluate.ts).
import { type EvalResult, type EvaluateOptions, evaluate as evaluateTensors } from '../eval/evaluate.js';
import { scope, tensor } from '../tensor/index.js';
import { UsageError } from '../util/errors.js';

export type { EvalResult, EvaluateOptions };

/** One set of embeddings (n x dim, row-major) and a label per row. */
export interface Embeddings {
  vectors: Float32Array | readonly (readonly number[])[];
  labels: ArrayLike<number>;
}

function rowsOf(e: Embeddings, what: string): { data: Float32Array; n: number; dim: number } {
  const n = e.labels.length;
  const data = e.vectors instanceof Float32Array ? e.vectors : Float32Array.from(e.vectors.flat());
  if (n === 0 || data.length % n !== 0)
    throw new UsageError(`${what}: ${data.length} values do not make ${n} rows (one per label)`);
  return { data, n, dim: data.length / n };
}

/**
 * Recall@K (default 1, 2, 4, 8), and with options binary Recall@K, NMI and MAP@R. One set is searched against
 * itself (each query excludes itself: CUB, Cars, SOP); { query, gallery } searches one against the other
 * (In-Shop).
 */
export function evaluate(
  input: Embeddings | { query: Embeddings; gallery: Embeddings },
  options: EvaluateOptions = {},
): EvalResult {
  return scope(() => {
    const set = (e: Embeddings, what: string) => {
      const { data, n, dim } = rowsOf(e, what);
      return { embeddings: tensor(data, { shape: [n, dim] }), labels: Int32Array.from(e.labels) };
    };
    if ('query' in input)
      return evaluateTensors({ query: set(input.query, 'query'), gallery: set(input.gallery, 'gallery') }, options);
    return evaluateTensors(set(input, 'embeddings'), options);
  });
}
