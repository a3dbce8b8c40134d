// Exact k-nearest neighbours by inner product, in bounded memory.
//
// The score matrix is never materialised: query x gallery tiles (one matmul each, at most
// tileSize x tileSize floats) are merged into a running top-k per query (native/src/knn.cpp), so memory
// is the embeddings, a tile and 16 bytes per query and neighbour. When the query set is the gallery,
// the score matrix is symmetric: each off-diagonal tile is computed once and merged into both its rows
// and (read transposed) its columns, halving the matmul work; a query never retrieves itself (excluded
// by index).
//
// Ties: candidates are ranked by (score descending, gallery index ascending), a total order applied
// by every comparison of the selection and by the final sort (both compare one packed word holding
// the score's order-preserving bits and the index), so equal scores always come out in ascending
// gallery index whatever the tiling or thread count. (-0 and +0 count as equal.)
import { scope, type Tensor } from '../tensor/index.js';
import { TopK } from './kernels.js';
import { asFloatMatrix, checkK } from './matrix.js';
import type { Neighbors } from './neighbors.js';

export interface KnnOptions {
  /**
   * Rows (and columns) of one score tile; memory for a tile is tileSize^2 * 4 bytes. Default: 4096, and
   * for self retrieval about n / 8 when smaller, so that most tiles lie off the diagonal and are shared.
   */
  tileSize?: number;
  /** Called after each tile with the tiles done and the total. */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_TILE_SIZE = 4096;

function tileSizeOf(o: KnnOptions, selfRows?: number): number {
  const auto =
    selfRows === undefined
      ? DEFAULT_TILE_SIZE
      : Math.min(DEFAULT_TILE_SIZE, Math.max(256, Math.ceil(selfRows / 8 / 64) * 64));
  const t = o.tileSize ?? auto;
  if (!Number.isInteger(t) || t < 1) throw new RangeError(`tileSize must be a positive integer, got ${t}`);
  return t;
}

function starts(n: number, step: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < n; s += step) out.push(s);
  return out;
}

/** The search result of a finished selection. */
export function neighborsOf(top: TopK, scores: boolean): Neighbors {
  const { keys, ids } = top.finish(scores);
  return { n: top.n, k: top.k, indices: ids, keys };
}

/** The k gallery items with the largest inner product for each query (query and gallery are distinct sets). */
export function knnInnerProduct(query: Tensor, gallery: Tensor, k: number, o: KnnOptions = {}): Neighbors {
  const tile = tileSizeOf(o);
  return scope(() => {
    const q = asFloatMatrix(query, 'query embeddings');
    const g = asFloatMatrix(gallery, 'gallery embeddings');
    if (q.size(1) !== g.size(1)) {
      throw new RangeError(`query embeddings have dimension ${q.size(1)}, gallery embeddings ${g.size(1)}`);
    }
    const n = q.size(0);
    const m = g.size(0);
    checkK(k, m, 'knnInnerProduct');
    const top = new TopK(n, k);
    const rows = starts(n, tile);
    const cols = starts(m, tile);
    let done = 0;
    for (const r of rows) {
      for (const c of cols) {
        scope(() => {
          const scores = q.narrow(0, r, Math.min(tile, n - r)).mm(g.narrow(0, c, Math.min(tile, m - c)).T);
          top.mergeScores(scores, r, c, { excludeSelf: false, transposed: false });
        });
        o.onProgress?.(++done, rows.length * cols.length);
      }
    }
    return neighborsOf(top, true);
  });
}

/**
 * The k nearest items of each item of x among the others (query set = gallery, self excluded by
 * index, so an exact duplicate of a query is still retrieved).
 */
export function knnInnerProductSelf(x: Tensor, k: number, o: KnnOptions = {}): Neighbors {
  return scope(() => {
    const e = asFloatMatrix(x, 'embeddings');
    const n = e.size(0);
    const tile = tileSizeOf(o, n);
    checkK(k, n - 1, 'knnInnerProductSelf');
    const top = new TopK(n, k);
    const blocks = starts(n, tile);
    const total = (blocks.length * (blocks.length + 1)) / 2;
    let done = 0;
    blocks.forEach((r, bi) => {
      const rowBlock = e.narrow(0, r, Math.min(tile, n - r));
      for (const c of blocks.slice(bi)) {
        scope(() => {
          const scores = rowBlock.mm(e.narrow(0, c, Math.min(tile, n - c)).T);
          top.mergeScores(scores, r, c, { excludeSelf: true, transposed: false });
          if (c !== r) top.mergeScores(scores, c, r, { excludeSelf: true, transposed: true });
        });
        o.onProgress?.(++done, total);
      }
    });
    return neighborsOf(top, true);
  });
}
