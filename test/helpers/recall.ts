// Recall@K counted directly from the definition (spec section 4), independent of src/eval: for tests that
// check what the commands print against the embeddings they wrote.

/**
 * Recall@K (%, as numpy computes it: 100 * mean) of the rows searched against each other by inner product,
 * the query itself excluded, ties in ascending index.
 */
export function bruteForceRecall(rows: number[][], labels: ArrayLike<number>, ks: number[]): Record<string, number> {
  const n = rows.length;
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * (b[i] as number), 0);
  const firstHit = rows.map((q, i) => {
    const order = [...Array(n).keys()]
      .filter((j) => j !== i)
      .sort((a, b) => dot(q, rows[b] as number[]) - dot(q, rows[a] as number[]) || a - b);
    return order.findIndex((j) => labels[j] === labels[i]);
  });
  return Object.fromEntries(ks.map((k) => [String(k), 100 * (firstHit.filter((r) => r >= 0 && r < k).length / n)]));
}

/** The rows of a 2-d float tensor's data, as arrays. */
export function rowsOf(data: Float32Array, columns: number): number[][] {
  return Array.from({ length: data.length / columns }, (_, i) =>
    Array.from(data.subarray(i * columns, (i + 1) * columns)),
  );
}
