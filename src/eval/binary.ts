// Binary embeddings: one bit per dimension, bit = (x > 0), packed 8 per byte, compared by Hamming
// distance (popcount of the XOR).
//
// Bit order (little-endian within each byte, as numpy.packbits(..., bitorder='little') and faiss'
// fvec2bitvec): dimension j is bit (j % 8) of byte floor(j / 8), bit 0 being the least significant.
// A dimension count that is not a multiple of 8 is padded with 0 bits, equal in every code, so
// distances are unchanged.
//
// Ties are frequent (distances are small integers): candidates are ranked by (distance ascending,
// gallery index ascending), a total order, so tied items come out in ascending gallery index.
import { cat, scope, type Tensor, tensor, zeros } from '../tensor/index.js';
import { TopK } from './kernels.js';
import type { KnnOptions } from './knn.js';
import { neighborsOf } from './knn.js';
import { asCodeMatrix, asFloatMatrix, checkK } from './matrix.js';
import type { Neighbors } from './neighbors.js';

const ROWS_PER_CHUNK = 4096;

/** Packs bit = (x > 0) of float embeddings [n, d] into uint8 codes [n, ceil(d / 8)]. */
export function binarize(x: Tensor): Tensor {
  return scope(() => {
    const e = asFloatMatrix(x, 'embeddings');
    const [n, d] = e.shape as [number, number];
    const bytes = Math.ceil(d / 8);
    const weights = tensor(Uint8Array.of(1, 2, 4, 8, 16, 32, 64, 128));
    const chunks: Tensor[] = [];
    for (let r = 0; r < n; r += ROWS_PER_CHUNK) {
      const rows = Math.min(ROWS_PER_CHUNK, n - r);
      chunks.push(
        scope(() => {
          let bits = e.narrow(0, r, rows).gt(0).to('uint8');
          if (bytes * 8 !== d) bits = cat([bits, zeros([rows, bytes * 8 - d], { dtype: 'uint8' })], 1);
          return bits.view(rows, bytes, 8).mul(weights).sum(2, false, 'uint8');
        }),
      );
    }
    return chunks.length === 0 ? zeros([0, bytes], { dtype: 'uint8' }) : cat(chunks, 0);
  });
}

export interface StorageReport {
  dimension: number;
  /** Bytes of one float32 embedding. */
  floatBytes: number;
  /** Bytes of one packed binary code. */
  binaryBytes: number;
  /** floatBytes / binaryBytes */
  ratio: number;
}

/** Per-embedding storage of float32 vs packed binary codes (2048 dims: 8 KiB vs 256 bytes). */
export function storageReport(dimension: number): StorageReport {
  const floatBytes = dimension * 4;
  const binaryBytes = Math.ceil(dimension / 8);
  return { dimension, floatBytes, binaryBytes, ratio: floatBytes / binaryBytes };
}

function searchHamming(queries: Tensor, gallery: Tensor, k: number, excludeSelf: boolean, o: KnnOptions): Neighbors {
  return scope(() => {
    const q = asCodeMatrix(queries, 'query codes');
    const g = asCodeMatrix(gallery, 'gallery codes');
    if (q.size(1) !== g.size(1)) {
      throw new RangeError(`query codes have ${q.size(1)} bytes, gallery codes ${g.size(1)}`);
    }
    const n = q.size(0);
    checkK(k, g.size(0) - (excludeSelf ? 1 : 0), excludeSelf ? 'knnHammingSelf' : 'knnHamming');
    const top = new TopK(n, k);
    const chunk = o.tileSize ?? ROWS_PER_CHUNK;
    const total = Math.ceil(n / chunk);
    for (let r = 0, done = 0; r < n; r += chunk) {
      scope(() => top.mergeHamming(q.narrow(0, r, Math.min(chunk, n - r)), g, r, 0, excludeSelf));
      o.onProgress?.(++done, total);
    }
    return neighborsOf(top, false);
  });
}

/** The k gallery codes nearest in Hamming distance to each query code (distinct sets). */
export function knnHamming(queries: Tensor, gallery: Tensor, k: number, o: KnnOptions = {}): Neighbors {
  return searchHamming(queries, gallery, k, false, o);
}

/** The k nearest codes of each code among the others (query set = gallery, self excluded by index). */
export function knnHammingSelf(codes: Tensor, k: number, o: KnnOptions = {}): Neighbors {
  return searchHamming(codes, codes, k, true, o);
}
