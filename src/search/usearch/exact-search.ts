// Exact search with the evaluation kernels (src/eval): float by inner product over unit vectors (the
// same k-NN as `normsoftmax eval`, ties by row ascending), binary by Hamming distance over packed codes
// (ties by row ascending). A subset of rows (a filter's matches, ascending) is searched as its own
// gallery and mapped back, which keeps the tie order.
import { knnHamming } from '../../eval/binary.js';
import { knnInnerProduct } from '../../eval/knn.js';
import { scope, type Tensor, tensor } from '../../tensor/index.js';
import type { RowHits } from '../rescore.js';

function gallerySubset(all: Tensor, rows: Int32Array | null): Tensor {
  return rows === null ? all : all.indexSelect(0, tensor(rows).to('int64'));
}

function split(
  n: number,
  k: number,
  ids: Int32Array,
  keys: ArrayLike<number>,
  rows: Int32Array | null,
  toScore: (key: number) => number,
): RowHits[] {
  const out: RowHits[] = [];
  for (let q = 0; q < n; q++) {
    const r = new Int32Array(k);
    const s = new Float32Array(k);
    for (let j = 0; j < k; j++) {
      const id = ids[q * k + j] as number;
      r[j] = rows === null ? id : (rows[id] as number);
      s[j] = toScore(keys[q * k + j] as number);
    }
    out.push({ rows: r, scores: s });
  }
  return out;
}

/** The k rows with the largest inner product for each query (queries: nq x dim row-major). */
export function exactFloat(
  vectors: Tensor,
  queries: Float32Array,
  nq: number,
  k: number,
  rows: Int32Array | null = null,
): RowHits[] {
  const dim = vectors.size(1);
  return scope(() => {
    const g = gallerySubset(vectors, rows);
    const kk = Math.min(k, g.size(0));
    if (kk === 0 || nq === 0)
      return Array.from({ length: nq }, () => ({ rows: new Int32Array(0), scores: new Float32Array(0) }));
    const nb = knnInnerProduct(tensor(queries, { shape: [nq, dim] }), g, kk);
    return split(nq, kk, nb.indices, nb.keys, rows, (v) => v);
  });
}

/** The k rows nearest in Hamming distance; score = bits - distance (bits in common). */
export function exactBinary(
  codes: Tensor,
  queryCodes: Uint8Array,
  nq: number,
  k: number,
  bits: number,
  rows: Int32Array | null = null,
): RowHits[] {
  const bytes = codes.size(1);
  return scope(() => {
    const g = gallerySubset(codes, rows);
    const kk = Math.min(k, g.size(0));
    if (kk === 0 || nq === 0)
      return Array.from({ length: nq }, () => ({ rows: new Int32Array(0), scores: new Float32Array(0) }));
    const nb = knnHamming(tensor(queryCodes, { shape: [nq, bytes] }), g, kk);
    return split(nq, kk, nb.indices, nb.keys, rows, (d) => bits - d);
  });
}

/** Codes as 0/1 floats, one per bit (bytes * 8 of them), for usearch's b1 index (it packs them itself). */
export function unpackCodes(codes: Uint8Array): Float32Array {
  const out = new Float32Array(codes.length * 8);
  for (let i = 0; i < codes.length; i++) {
    const b = codes[i] as number;
    for (let j = 0; j < 8; j++) out[i * 8 + j] = (b >> j) & 1;
  }
  return out;
}

/** The given rows of a row-major n x dim array, as a new array. */
export function gatherRows(data: Float32Array, dim: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    out.set(data.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return out;
}
