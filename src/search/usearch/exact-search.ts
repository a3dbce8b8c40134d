// Exact search with the scan kernels (src/tensor/kernels/scan.ts): float by inner product over unit
// vectors, binary by Hamming distance over packed codes, both with ties by row ascending (evaluation's
// k-NN order). The stored arrays are read where they lie (a SharedArrayBuffer view included), never
// copied; a batch of queries shares each pass over them. A subset of rows (a filter's matches, ascending)
// is scanned in place.
import { type StoredVectors, scanHamming, scanInnerProduct } from '../../tensor/kernels/scan.js';
import { quantize } from '../precision.js';
import type { RowHits } from '../rescore.js';

function split(
  nq: number,
  k: number,
  hitRows: Int32Array,
  values: ArrayLike<number>,
  toScore: (value: number) => number,
): RowHits[] {
  return Array.from({ length: nq }, (_, q) => {
    const rows = hitRows.slice(q * k, (q + 1) * k);
    const scores = new Float32Array(k);
    for (let j = 0; j < k; j++) scores[j] = toScore(values[q * k + j] as number);
    return { rows, scores };
  });
}

function empty(nq: number): RowHits[] {
  return Array.from({ length: nq }, () => ({ rows: new Int32Array(0), scores: new Float32Array(0) }));
}

/**
 * The k rows with the largest inner product for each query (vectors: n x dim float32 or a stored form,
 * queries: nq x dim, row-major). i8 rows are scored with int8 queries (the kernels' fast path).
 */
export function exactFloat(
  vectors: Float32Array | StoredVectors,
  dim: number,
  queries: Float32Array,
  nq: number,
  k: number,
  rows: Int32Array | null = null,
): RowHits[] {
  const stored: StoredVectors =
    vectors instanceof Float32Array ? { precision: 'f32', data: vectors, n: vectors.length / dim, dim } : vectors;
  const kk = Math.min(k, rows === null ? stored.n : rows.length);
  if (kk === 0 || nq === 0) return empty(nq);
  const hits = scanInnerProduct(stored, queries.subarray(0, nq * dim), {
    k: kk,
    rows,
    int8Queries: stored.precision === 'i8',
  });
  return split(nq, kk, hits.rows, hits.scores, (v) => v);
}

/**
 * Unit float32 rows as the scan reads i8 storage: each row quantised as src/search/precision.ts stores it
 * (scale = max|x| / 127), its scale as the row scale. For rows renormalised from i8 storage this gives back
 * the stored int8 values (their largest is 127), so the scan reads a quarter of the bytes of float32.
 */
export function int8Rows(vectors: Float32Array, dim: number): StoredVectors {
  const { vectors: bytes, scales } = quantize(vectors, dim, 'i8');
  const rowScales = new Float32Array((scales as Uint8Array).buffer);
  return { precision: 'i8', data: new Int8Array(bytes.buffer), n: rowScales.length, dim, rowScales };
}

/** The k rows nearest in Hamming distance over codes of ceil(bits / 8) bytes; score = bits - distance. */
export function exactBinary(
  codes: Uint8Array,
  queryCodes: Uint8Array,
  nq: number,
  k: number,
  bits: number,
  rows: Int32Array | null = null,
): RowHits[] {
  const bytes = Math.ceil(bits / 8);
  const n = codes.length / bytes;
  const kk = Math.min(k, rows === null ? n : rows.length);
  if (kk === 0 || nq === 0) return empty(nq);
  const hits = scanHamming({ data: codes, n, bytes }, queryCodes.subarray(0, nq * bytes), { k: kk, rows });
  return split(nq, kk, hits.rows, hits.distances, (d) => bits - d);
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
