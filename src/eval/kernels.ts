// Typed access to the native k-NN selection kernels (native/src/knn.cpp). Each query row keeps its best
// k candidates as a heap in two [n, k] tensors (keys, int32 gallery indices) updated in place.
import { full, type Tensor } from '../tensor/index.js';
import { native } from '../tensor/native.js';

const INT32_MAX = 2 ** 31 - 1;

export interface Heaps {
  keys: Tensor;
  ids: Tensor;
}

/** Empty heaps for n rows: every slot holds the worst possible candidate. */
export function emptyHeaps(n: number, k: number, kind: 'score' | 'distance'): Heaps {
  return kind === 'score'
    ? { keys: full([n, k], Number.NEGATIVE_INFINITY), ids: full([n, k], INT32_MAX, { dtype: 'int32' }) }
    : { keys: full([n, k], INT32_MAX, { dtype: 'int32' }), ids: full([n, k], INT32_MAX, { dtype: 'int32' }) };
}

/**
 * Offers every score of a float32 tile: tile[i][j] scores heap row rowStart+i against gallery item
 * colStart+j (with `transposed`, heap row rowStart+j against gallery item colStart+i).
 */
export function mergeScores(
  heaps: Heaps,
  tile: Tensor,
  rowStart: number,
  colStart: number,
  o: { excludeSelf: boolean; transposed: boolean },
): void {
  native.knnMergeScores(
    heaps.keys.handle,
    heaps.ids.handle,
    tile.handle,
    rowStart,
    colStart,
    o.excludeSelf,
    o.transposed,
  );
}

/** Offers the Hamming distance of every (query code, gallery code) pair: fused popcount and selection. */
export function mergeHamming(
  heaps: Heaps,
  queries: Tensor,
  gallery: Tensor,
  rowStart: number,
  colStart: number,
  excludeSelf: boolean,
): void {
  native.knnMergeHamming(
    heaps.keys.handle,
    heaps.ids.handle,
    queries.handle,
    gallery.handle,
    rowStart,
    colStart,
    excludeSelf,
  );
}

/** Sorts every row best first: larger (or smaller) keys first, equal keys by gallery index ascending. */
export function sortHeaps(heaps: Heaps, largest: boolean): void {
  native.knnSortHeaps(heaps.keys.handle, heaps.ids.handle, largest);
}
