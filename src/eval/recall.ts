// Recall@K: the percentage of queries whose K nearest gallery items include at least one item of the
// query's class. A query without any item of its class in the gallery counts as a miss.
import { type Neighbors, neighborRow } from './neighbors.js';

export function checkKs(ks: readonly number[]): void {
  if (ks.length === 0) throw new RangeError('the K list is empty');
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`K must be a positive integer, got ${k}`);
  }
}

export interface RecallInput {
  neighbors: Neighbors;
  queryLabels: ArrayLike<number>;
  galleryLabels: ArrayLike<number>;
  /**
   * Query i is gallery item i (query set = gallery): an occurrence of i in its own neighbour list is
   * skipped. Our searches already exclude it; this makes lists that include the query safe too.
   */
  excludeSelf?: boolean;
}

/**
 * Rank (0-based, after self-exclusion) of the first neighbour of the query's class, or Infinity.
 * Only the stored neighbours are looked at.
 */
export function firstHitRanks(input: RecallInput): Float64Array {
  const { neighbors: nb, queryLabels, galleryLabels, excludeSelf = false } = input;
  if (queryLabels.length !== nb.n) {
    throw new RangeError(`${queryLabels.length} query labels for ${nb.n} neighbour lists`);
  }
  const ranks = new Float64Array(nb.n).fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < nb.n; i++) {
    const want = queryLabels[i];
    let rank = 0;
    for (const j of neighborRow(nb, i)) {
      if (excludeSelf && j === i) continue;
      if (j < 0 || j >= galleryLabels.length) throw new RangeError(`neighbour index ${j} outside the gallery`);
      if (galleryLabels[j] === want) {
        ranks[i] = rank;
        break;
      }
      rank++;
    }
  }
  return ranks;
}

/** Recall@K in percent for each K, keyed by K as a string ({'1': 65.4, '2': ...}). */
export function recallAtK(input: RecallInput, ks: readonly number[]): Record<string, number> {
  checkKs(ks);
  const ranks = firstHitRanks(input);
  const out: Record<string, number> = {};
  for (const k of ks) {
    let hits = 0;
    for (const r of ranks) if (r < k) hits++;
    out[String(k)] = ranks.length === 0 ? 0 : 100 * (hits / ranks.length); // as numpy: 100 * mean
  }
  return out;
}
