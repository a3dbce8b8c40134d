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

/**
 * The Recall@K (%) that any exact search of these rows may report when scores that differ by at most `eps`
 * may come out in either order (a float32 GEMM and this float64 count round differently, and the order
 * in which a GEMM sums depends on its blocking and threads): per K, the least and the most. For rows
 * whose scores sit close together (random weights), where an exact equality would fail on a near-tie.
 */
export function recallRange(
  rows: number[][],
  labels: ArrayLike<number>,
  ks: number[],
  eps = 1e-5,
): Record<string, [number, number]> {
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * (b[i] as number), 0);
  // Per query: the rank of its first hit when near-ties go its way, and when they go against it.
  const ranks = rows.map((q, i) => {
    const scores = rows.map((r) => dot(q, r));
    const same = scores.filter((_, j) => j !== i && labels[j] === labels[i]);
    if (same.length === 0) return [Infinity, Infinity] as const;
    const best = Math.max(...same);
    const others = scores.filter((_, j) => j !== i && labels[j] !== labels[i]);
    return [others.filter((s) => s > best + eps).length, others.filter((s) => s >= best - eps).length] as const;
  });
  const percent = (hits: number) => 100 * (hits / rows.length);
  return Object.fromEntries(
    ks.map((k) => [
      String(k),
      [
        percent(ranks.filter(([, worst]) => worst < k).length),
        percent(ranks.filter(([bestRank]) => bestRank < k).length),
      ],
    ]),
  );
}

/** The rows of a 2-d float tensor's data, as arrays. */
export function rowsOf(data: Float32Array, columns: number): number[][] {
  return Array.from({ length: data.length / columns }, (_, i) =>
    Array.from(data.subarray(i * columns, (i + 1) * columns)),
  );
}
