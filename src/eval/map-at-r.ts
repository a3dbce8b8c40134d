// MAP@R and R-Precision (Musgrave, Belongie & Lim, "A Metric Learning Reality Check", ECCV 2020).
// For a query with R gallery items of its class (itself excluded when query set = gallery), look at
// its R nearest neighbours:
//   R-Precision = (relevant among the R) / R
//   MAP@R       = (1 / R) * sum over i = 1..R of P(i) * rel(i),   P(i) = (relevant among the first i) / i
// Both are averaged over the queries that have R >= 1 (a query whose class is absent from the gallery
// has no defined value and is left out, as pytorch-metric-learning does). Values are fractions in [0, 1].
import { countCodes } from './labels.js';
import { type Neighbors, neighborRow } from './neighbors.js';

export interface MapAtRInput {
  neighbors: Neighbors;
  /** Dense label codes (0..classes-1) of the queries and of the gallery. */
  queryLabels: Int32Array;
  galleryLabels: Int32Array;
  /** Query i is gallery item i: it is neither counted in R nor taken as a neighbour. */
  excludeSelf?: boolean;
}

export interface MapAtR {
  mapAtR: number;
  rPrecision: number;
  /** Queries that entered the averages (those with R >= 1). */
  queries: number;
}

/** R of every query: gallery items of its class, minus itself when query set = gallery. */
export function relevantCounts(queryLabels: Int32Array, galleryLabels: Int32Array, excludeSelf: boolean): Int32Array {
  let classes = 0;
  for (const c of queryLabels) classes = Math.max(classes, c + 1);
  for (const c of galleryLabels) classes = Math.max(classes, c + 1);
  const perClass = countCodes(galleryLabels, classes);
  return queryLabels.map((c) => (perClass[c] as number) - (excludeSelf ? 1 : 0));
}

export function mapAtR(input: MapAtRInput): MapAtR {
  const { neighbors: nb, queryLabels, galleryLabels, excludeSelf = false } = input;
  if (queryLabels.length !== nb.n)
    throw new RangeError(`${queryLabels.length} query labels for ${nb.n} neighbour lists`);
  const rs = relevantCounts(queryLabels, galleryLabels, excludeSelf);
  let apSum = 0;
  let rpSum = 0;
  let counted = 0;
  for (let i = 0; i < nb.n; i++) {
    const r = rs[i] as number;
    if (r < 1) continue;
    const want = queryLabels[i];
    let seen = 0;
    let hits = 0;
    let precisionSum = 0;
    for (const j of neighborRow(nb, i)) {
      if (excludeSelf && j === i) continue;
      if (seen === r) break;
      seen++;
      if (galleryLabels[j] === want) {
        hits++;
        precisionSum += hits / seen;
      }
    }
    if (seen < r) {
      throw new RangeError(`MAP@R needs ${r} neighbours for query ${i} but only ${seen} were retrieved`);
    }
    apSum += precisionSum / r;
    rpSum += hits / r;
    counted++;
  }
  return counted === 0
    ? { mapAtR: Number.NaN, rPrecision: Number.NaN, queries: 0 }
    : { mapAtR: apSum / counted, rPrecision: rpSum / counted, queries: counted };
}

/** The largest R over the queries: how many neighbours MAP@R needs. */
export function maxRelevant(queryLabels: Int32Array, galleryLabels: Int32Array, excludeSelf: boolean): number {
  let max = 0;
  for (const r of relevantCounts(queryLabels, galleryLabels, excludeSelf)) max = Math.max(max, r);
  return max;
}
