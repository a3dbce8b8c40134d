// Precision@1 as the Reality Check (and pytorch-metric-learning) computes it: the fraction of queries whose
// nearest gallery item has the query's class, over the queries with R >= 1 (a query whose class has no
// other gallery item is left out, as for MAP@R; Recall@1 of src/eval/recall.ts counts it as a miss).
import { relevantCounts } from './map-at-r.js';
import { type Neighbors, neighborRow } from './neighbors.js';

export function precisionAt1(
  nb: Neighbors,
  queryLabels: Int32Array,
  galleryLabels: Int32Array,
  excludeSelf: boolean,
): { precision: number; queries: number } {
  if (queryLabels.length !== nb.n)
    throw new RangeError(`${queryLabels.length} query labels for ${nb.n} neighbour lists`);
  const rs = relevantCounts(queryLabels, galleryLabels, excludeSelf);
  let hits = 0;
  let counted = 0;
  for (let i = 0; i < nb.n; i++) {
    if ((rs[i] as number) < 1) continue;
    const first = neighborRow(nb, i).find((j) => !(excludeSelf && j === i));
    if (first === undefined) throw new RangeError(`Precision@1: query ${i} has no neighbour`);
    counted++;
    if (galleryLabels[first] === queryLabels[i]) hits++;
  }
  return { precision: counted === 0 ? Number.NaN : hits / counted, queries: counted };
}
