// The evaluation's view of the native k-NN selection kernels (src/tensor/kernels/knn.ts): a running
// top-k per query row, held natively as packed (key, gallery index) words (16 bytes per query and
// neighbour), updated in place.
import type { Tensor } from '../tensor/index.js';
import { knnFinish, knnMergeHamming, knnMergeScores, knnState } from '../tensor/kernels/knn.js';

export class TopK {
  readonly #state: Tensor;

  /** An empty selection of the k best candidates for each of n query rows. */
  constructor(
    readonly n: number,
    readonly k: number,
  ) {
    this.#state = knnState(n, k);
  }

  /**
   * Offers every score of a float32 tile (larger is better): tile[i][j] scores query row rowStart+i
   * against gallery item colStart+j (with `transposed`, query row rowStart+j against item colStart+i).
   */
  mergeScores(
    tile: Tensor,
    rowStart: number,
    colStart: number,
    o: { excludeSelf: boolean; transposed: boolean },
  ): void {
    knnMergeScores(this.#state, tile, { k: this.k, rowStart, colStart, ...o });
  }

  /** Offers the Hamming distance of every (query code, gallery code) pair: fused popcount and selection. */
  mergeHamming(queries: Tensor, gallery: Tensor, rowStart: number, colStart: number, excludeSelf: boolean): void {
    knnMergeHamming(this.#state, queries, gallery, { k: this.k, rowStart, colStart, excludeSelf });
  }

  /**
   * Sorts every row best first (better key, then smaller gallery index), frees the state and returns the
   * keys (inner products as float32, or Hamming distances) and gallery indices, row-major [n, k].
   */
  finish(scores: boolean): { keys: Float32Array | Int32Array; ids: Int32Array } {
    const out = knnFinish(this.#state, { k: this.k, scores });
    this.#state.dispose();
    try {
      const all = out.toTypedArray() as Int32Array;
      const half = all.length / 2;
      const keys = all.subarray(0, half);
      return {
        keys: scores ? new Float32Array(keys.buffer, keys.byteOffset, half) : keys,
        ids: all.subarray(half),
      };
    } finally {
      out.dispose();
    }
  }
}
