// One query's hits as rows and scores, and how both backends score candidates: by the inner product of the
// stored unit vectors (cosine, as `normsoftmax eval`), best first, ties by row ascending. Whatever finds the
// candidates (usearch's graph, a Lance scan, binary codes), the scores are the same.

/** One query's hits: gallery rows best first and their scores. */
export interface RowHits {
  rows: Int32Array;
  scores: Float32Array;
}

/**
 * Re-scores candidate rows with the float vectors and keeps the best k (score descending, row ascending).
 * vectors: n x dim row-major unit vectors.
 */
export function rescore(
  vectors: Float32Array,
  dim: number,
  query: Float32Array,
  candidates: Int32Array,
  k: number,
): RowHits {
  const scored = Array.from(candidates, (row) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += (vectors[row * dim + j] as number) * (query[j] as number);
    return { row, score: Math.fround(s) };
  });
  scored.sort((a, b) => b.score - a.score || a.row - b.row);
  const top = scored.slice(0, k);
  return { rows: Int32Array.from(top, (t) => t.row), scores: Float32Array.from(top, (t) => t.score) };
}
