// The exact k-NN selection kernels (native/src/knn.cpp): a running top-k per query row, held as packed
// (key, gallery index) words in an int64 state tensor [n, 2 + 2k] that the merges update in place.
// Arguments are named and checked here.
import { full } from '../create.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { checkBoolean, checkInteger, describe } from './check.js';

/** Gallery indices are packed into 32 bits. */
const MAX_GALLERY = 2 ** 31 - 1;

/** An empty selection of the k best candidates for each of n query rows. */
export function knnState(n: number, k: number): Tensor {
  checkInteger('knnState()', 'n', n, 0, 2 ** 40);
  checkInteger('knnState()', 'k', k, 1, 2 ** 24);
  // Per row: [threshold word, count, 2k slots]; the all-ones threshold admits every candidate.
  const state = full([n, 2 + 2 * k], -1, { dtype: 'int64' });
  state.narrow(1, 1, 1).fill_(0);
  return state;
}

function checkTensor(fn: string, what: string, t: unknown, dtype: string, rank: number): Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${fn}: ${what} must be a Tensor, got ${describe(t)}`);
  if (t.dtype !== dtype || t.rank !== rank || t.device !== 'cpu') {
    throw new TypeError(
      `${fn}: ${what} must be a ${rank}-d ${dtype} CPU tensor, got ${t.dtype} [${t.shape.join(', ')}] on ${t.device}`,
    );
  }
  return t;
}

/** Checks the state and k against each other; returns the state's row count. */
function checkState(fn: string, state: Tensor, k: number): number {
  checkTensor(fn, 'state', state, 'int64', 2);
  if (!state.isContiguous()) throw new TypeError(`${fn}: state must be contiguous (it is updated in place)`);
  const [n, width] = state.shape as [number, number];
  checkInteger(fn, 'k', k, 1, Math.max(1, Math.floor((width - 2) / 2)));
  return n;
}

export interface KnnMergeScoresOptions {
  k: number;
  /** tile[i][j] scores query row rowStart + i against gallery item colStart + j (transposed: j and i). */
  rowStart: number;
  colStart: number;
  /** Skip the candidate whose gallery index equals the query row (query set = gallery). */
  excludeSelf: boolean;
  transposed: boolean;
}

/** Offers every score of a 2-d float32 tile to the selection (larger is better). */
export function knnMergeScores(state: Tensor, tile: Tensor, o: KnnMergeScoresOptions): void {
  const fn = 'knnMergeScores()';
  const n = checkState(fn, state, o.k);
  checkTensor(fn, 'tile', tile, 'float32', 2);
  const transposed = checkBoolean(fn, 'transposed', o.transposed);
  checkBoolean(fn, 'excludeSelf', o.excludeSelf);
  const [r, c] = tile.shape as [number, number];
  const [rows, cols] = transposed ? [c, r] : [r, c];
  checkInteger(fn, 'rowStart', o.rowStart, 0, n - rows);
  checkInteger(fn, 'colStart', o.colStart, 0, MAX_GALLERY - cols);
  native.knnMergeScores(state.handle, tile.handle, o.k, o.rowStart, o.colStart, o.excludeSelf, transposed);
}

export interface KnnMergeHammingOptions {
  k: number;
  /** queries[i] is query row rowStart + i; gallery[j] is gallery item colStart + j. */
  rowStart: number;
  colStart: number;
  excludeSelf: boolean;
}

/** Offers the Hamming distance of every (query code, gallery code) pair (uint8 [r, B] and [c, B]). */
export function knnMergeHamming(state: Tensor, queries: Tensor, gallery: Tensor, o: KnnMergeHammingOptions): void {
  const fn = 'knnMergeHamming()';
  const n = checkState(fn, state, o.k);
  checkTensor(fn, 'queries', queries, 'uint8', 2);
  checkTensor(fn, 'gallery', gallery, 'uint8', 2);
  if (queries.shape[1] !== gallery.shape[1]) {
    throw new RangeError(
      `${fn}: queries and gallery codes differ in length (${queries.shape[1]} and ${gallery.shape[1]} bytes)`,
    );
  }
  checkBoolean(fn, 'excludeSelf', o.excludeSelf);
  checkInteger(fn, 'rowStart', o.rowStart, 0, n - (queries.shape[0] as number));
  checkInteger(fn, 'colStart', o.colStart, 0, MAX_GALLERY - (gallery.shape[0] as number));
  native.knnMergeHamming(state.handle, queries.handle, gallery.handle, o.k, o.rowStart, o.colStart, o.excludeSelf);
}

/**
 * Sorts every row best first (better key, then smaller gallery index) into an int32 [2, n, k] tensor:
 * [0] the keys (float32 bits of the scores when `scores`, else Hamming distances), [1] the gallery
 * indices (-1 where fewer than k candidates came). The state is left unusable; dispose it.
 */
export function knnFinish(state: Tensor, o: { k: number; scores: boolean }): Tensor {
  const fn = 'knnFinish()';
  checkState(fn, state, o.k);
  const scores = checkBoolean(fn, 'scores', o.scores);
  return new Tensor(native.knnFinish(state.handle, o.k, scores));
}
