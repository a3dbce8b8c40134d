// Pure helpers of the search benchmark: recall against exact search, the best throughput at a recall floor,
// and the targets' status. No timing, no I/O (test/bench/search-measures.test.ts).

/** Mean over queries of |returned ∩ true top-k| / k (ids per query; each list cut to k). */
export function recallAtK(
  truth: readonly (readonly number[])[],
  got: readonly (readonly number[])[],
  k: number,
): number {
  if (truth.length !== got.length) throw new RangeError(`recallAtK: ${truth.length} truths for ${got.length} results`);
  if (truth.length === 0) return 1;
  let hits = 0;
  truth.forEach((t, i) => {
    const want = new Set(t.slice(0, k));
    hits += new Set((got[i] ?? []).slice(0, k).filter((id) => want.has(id))).size;
  });
  return hits / (truth.length * k);
}

/** Splits a flat row-major list of ids (nq x k) into one list per query, dropping negative ids (no result). */
export function splitIds(flat: ArrayLike<number | bigint>, nq: number, k: number): number[][] {
  return Array.from({ length: nq }, (_, q) =>
    Array.from({ length: k }, (_, j) => Number(flat[q * k + j])).filter((id) => id >= 0),
  );
}

export interface SweepPoint {
  ef: number;
  recallAt10: number;
  queriesPerSecond: number;
}

/** The highest queries/s among points at or above the recall floor, or null when none reaches it. */
export function bestQpsAtRecall(points: readonly SweepPoint[], minRecall: number): SweepPoint | null {
  let best: SweepPoint | null = null;
  for (const p of points) {
    if (p.recallAt10 >= minRecall && (best === null || p.queriesPerSecond > best.queriesPerSecond)) best = p;
  }
  return best;
}

export type TargetStatus = 'met' | 'not met' | 'not reached';

/**
 * Ours vs the reference at a recall floor: 'met' when our best point at the floor is at least as fast as
 * theirs (or they never reach it while we do), 'not met' when slower, 'not reached' when we never reach it.
 */
export function qpsTarget(ours: readonly SweepPoint[], theirs: readonly SweepPoint[], minRecall: number) {
  const o = bestQpsAtRecall(ours, minRecall);
  const t = bestQpsAtRecall(theirs, minRecall);
  const status: TargetStatus =
    o === null ? 'not reached' : t === null || o.queriesPerSecond >= t.queriesPerSecond ? 'met' : 'not met';
  return { ours: o, reference: t, status };
}

/** The rerank target: the smallest oversample m <= maxM whose recall@10 reaches the floor. */
export function rerankTarget(points: readonly { m: number; recallAt10: number }[], minRecall: number, maxM: number) {
  const ok = points.filter((p) => p.m <= maxM && p.recallAt10 >= minRecall).sort((a, b) => a.m - b.m);
  return { smallestM: ok[0]?.m ?? null, status: (ok.length > 0 ? 'met' : 'not met') as TargetStatus };
}
